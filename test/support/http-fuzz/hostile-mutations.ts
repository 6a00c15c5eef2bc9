import fc from 'fast-check';
import type { HttpCase } from './run-case.ts';
import { asCase, serialise, validDraft, type Draft, type DraftBody } from './request-draft.ts';

/**
 * Damage applied to a valid draft: junk in the request line, invalid or smuggling-prone fields, broken line endings,
 * wrong framing, bad chunks, pipelined extras, and raw byte edits. Each mutation is a pure function of the draft.
 * Upgrades other than h2c are never generated: they take the tunnel path, which this property does not describe.
 * Known bugs are skipped by `asCase` (known-gaps.ts), not avoided here.
 */
type DraftMutation = { on: 'draft'; apply: (draft: Draft) => Draft };
type BytesMutation = { on: 'bytes'; apply: (bytes: string) => string };
type Mutation = DraftMutation | BytesMutation;

const onDraft = (apply: (draft: Draft) => Draft): Mutation => ({ on: 'draft', apply });
const onBytes = (apply: (bytes: string) => string): Mutation => ({ on: 'bytes', apply });
const at = (list: readonly unknown[], i: number): number => i % Math.max(list.length, 1);

const JUNK_METHODS = ['get', 'FOO', 'G\x01T', 'GET\x00', 'CONNECT', 'PRI', 'M-SEARCH', 'PROPFIND', 'TRACE', 'QUERY', '\xe9', 'POST\t', 'G(T', ''];
const JUNK_TARGETS = [
  '/a#frag', '/?', '*', 'raw:80', 'http://u@raw/', 'https://raw/', 'ftp://raw/x', 'http://', 'http:///x', 'http://raw:80/x?y', 'HTTP://RAW/', 'http://raw%/x',
  'http://[::1]/', 'http://ra w/', '/a b', '/a\x01b', '/\xe9', '', '//x', '/..%2f..', '/%zz', '/a?b?c', '/\x7f', '/a\tb', '?x', 'x',
  '/"{}|\\^`<>', 'http://raw:99999/', 'http://:80/',
];
const JUNK_VERSIONS = ['HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'HTTP/0.9', 'http/1.1', 'HTTP/1', 'HTTP/1.1.1', 'HTTP/01.1', 'HTTP/1.10', 'HTTP/3.0', 'HTTP/1.1 ', 'XTTP/1.1', ''];
const SEPARATORS = ['  ', '\t', ' \t', '', '\x0b', ' \r '];
const LINE_ENDS = ['\n', '\r', '\r\r\n', ' \r\n', '\n\r', ''];
const JUNK_BYTES = ['\x00', '\x01', '\x07', '\x08', '\x0b', '\x0c', '\x1b', '\x7f', '\r', '\n', '\r\n ', '\x80', '\xff', '\t', ' '];
const JUNK_FIELDS = [
  'X A: v', ': v', 'X-\x00A: v', 'X-\x01A: v', 'X(A): v', 'X"A: v', 'X@A: v', 'X-\xe9: v', 'X-A : v', 'X-A\t: v', 'X/A: v', '[X]: v',
  'X-NoColon v', 'X-Double:: v', 'X-Empty:', 'X-Ows: \t v \t ', ' X-Leading: v', '\tX-Leading: v',
  'Host: raw', 'Host: evil', 'Host:', 'Host: raw, evil', 'Host: u@raw', 'Host: raw evil', 'Host: ra%w', 'Host: [::1]', 'Host: raw:',
  'Host: raw:99999', 'Host: :80', 'Host: raw:8a', 'Host : raw', 'host: RAW',
  'Content-Length: 0', 'Content-Length: 5', 'Content-Length: +1', 'Content-Length: -1', 'Content-Length: 0x10', 'Content-Length: 1 2',
  'Content-Length: ', 'Content-Length: 99999999999999999999999', 'Content-Length: 0, 0', 'Content-Length : 0', 'content-length: 00',
  'Transfer-Encoding: chunked', 'Transfer-Encoding: identity', 'Transfer-Encoding: gzip', 'Transfer-Encoding: gzip, chunked',
  'Transfer-Encoding: chunked, chunked', 'Transfer-Encoding: Chunked', 'Transfer-Encoding: chunked\t', 'Transfer-Encoding: ,chunked',
  'Transfer-Encoding: xchunked', 'Transfer-Encoding: chunked;x=1', 'Transfer-Encoding :chunked', 'Transfer-Encoding:\tchunked',
  'Connection: close', 'Connection: keep-alive', 'Connection: Host', 'Connection: content-length', 'Connection: x-request-id',
  'Connection: , ,', 'Connection: close, close', 'Connection: upgrade',
  'Expect: 100-continue', 'Expect: foo', 'Expect: 100-Continue', 'TE: trailers', 'TE: gzip', 'Upgrade: h2c', 'HTTP2-Settings: AAA',
  'Keep-Alive: 1', 'Proxy-Connection: close', 'Proxy-Authorization: x', 'X-Request-Id: ', 'X-Forwarded-For: 1.1.1.1', 'X-Forwarded-For:',
  'User-Agent: second', 'Cookie: c=2', 'Set-Cookie: s=1', 'Content-Type: text/x', 'Content-Type: text/y',
];
const PIPELINED = [
  'GET /second HTTP/1.1\r\nHost: raw\r\n\r\n',
  'POST /second HTTP/1.1\r\nHost: raw\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
  'GET /smuggled HTTP/1.1\r\nHost: raw\r\nContent-Length: 3\r\n\r\nabc',
  'xyz\r\n\r\n',
  '\r\n',
  'G',
];

/** Rewrites the framing relative to the current body: wrong lengths, lists, duplicates, CL with TE. */
function framingMutation(): fc.Arbitrary<Mutation> {
  const length = (body: DraftBody): number => (body.content.kind === 'raw' ? body.content.bytes.length : 0);
  return fc.oneof(
    fc.constantFrom<(n: number) => string[]>(
      () => ['+1'], () => ['-1'], () => ['0x10'], () => ['1 2'], () => [''], () => ['99999999999999999999999'],
      (n) => [`${n}, ${n}`], (n) => [`${n}`, `${n}`], (n) => [`${n}`, `${n + 1}`], (n) => [`${n + 1}`], (n) => [`${Math.max(n - 1, 0)}`], () => ['0'],
    ).map((values) => onDraft((d) => ({ ...d, body: { ...d.body, contentLength: values(length(d.body)) } }))),
    fc.constantFrom<string[]>(['chunked', 'chunked'], ['gzip'], ['identity'], ['chunked, identity'], ['gzip, chunked'], ['Chunked'], ['chunked '], ['xchunked'], [' chunked'], [''], ['chunked'])
      .map((values) => onDraft((d) => ({ ...d, body: { ...d.body, transferEncoding: values } }))),
  );
}

/** Damages one chunk (size, extension, the CRLF after its data), the last chunk, or the trailers. */
function chunkMutation(): fc.Arbitrary<Mutation> {
  const part = fc.record({
    index: fc.nat(),
    size: fc.option(fc.constantFrom('zz', '0x5', '-5', ' 5', '5 ', 'FFFFFFFFFFFFFFFFF', '', '+1', '1_0'), { nil: undefined }),
    grow: fc.constantFrom(0, 0, 1, -1),
    ext: fc.option(fc.constantFrom(';', ' ;a=b', ';a\x01', ';a=b\t', ';a="open', ';a=\x7f', '\n', ';a=b ;c'), { nil: undefined }),
    end: fc.option(fc.constantFrom('', 'XX', '\n', '\r', '\r\r\n', ' \r\n'), { nil: undefined }),
  });
  return fc.oneof(
    part.map(({ index, size, grow, ext, end }) =>
      onDraft((d) => {
        const content = d.body.content;
        if (content.kind !== 'chunked' || content.chunks.length === 0) return d;
        const chunks = [...content.chunks];
        const i = at(chunks, index);
        const chunk = chunks[i]!;
        chunks[i] = { ...chunk, size: size ?? Math.max(chunk.data.length + grow, 0).toString(16), ext: ext ?? chunk.ext, end: end ?? chunk.end };
        return { ...d, body: { ...d.body, content: { ...content, chunks } } };
      }),
    ),
    fc.record({ last: fc.constantFrom<string | undefined>(undefined, '0\n', '0 \r\n', '0;\r\n', '00\r\n', 'x\r\n'), trailers: fc.constantFrom<string[] | undefined>(undefined, ['X T: 1'], ['X-T:\x01'], [' folded'], ['Content-Length: 5'], ['X-T: ok']) }).map(
      ({ last, trailers }) =>
        onDraft((d) => {
          const content = d.body.content;
          if (content.kind !== 'chunked') return d;
          return { ...d, body: { ...d.body, content: { ...content, last, trailers: trailers ?? content.trailers } } };
        }),
    ),
  );
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...JUNK_METHODS).map((method) => onDraft((d) => ({ ...d, method }))) },
  { weight: 3, arbitrary: fc.constantFrom(...JUNK_TARGETS).map((target) => onDraft((d) => ({ ...d, target }))) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...JUNK_BYTES), fc.nat()).map(([byte, i]) => onDraft((d) => ({ ...d, target: d.target.slice(0, at([...d.target], i)) + byte + d.target.slice(at([...d.target], i)) }))) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(1, 2), fc.constantFrom(...SEPARATORS)).map(([which, sep]) => onDraft((d) => (which === 1 ? { ...d, sep1: sep } : { ...d, sep2: sep }))) },
  { weight: 2, arbitrary: fc.constantFrom(...JUNK_VERSIONS).map((version) => onDraft((d) => ({ ...d, version }))) },
  { weight: 1, arbitrary: fc.constantFrom(...LINE_ENDS).map((lineEnd) => onDraft((d) => ({ ...d, lineEnd }))) },
  { weight: 1, arbitrary: fc.constantFrom('\r\n', '\n', ' ', '\r\n\r\n', '\x00').map((leading) => onDraft((d) => ({ ...d, leading }))) },
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom(...JUNK_FIELDS), fc.nat()).map(([line, i]) => onDraft((d) => ({ ...d, fields: d.fields.toSpliced(i % (d.fields.length + 1), 0, { line, eol: '\r\n' }) }))) },
  {
    weight: 4,
    arbitrary: fc.tuple(fc.string({ unit: fc.constantFrom(...'abcXYZ019 -_.,;:'), maxLength: 6 }), fc.constantFrom(...JUNK_BYTES), fc.string({ unit: fc.constantFrom(...'abcXYZ019 -_.,;:'), maxLength: 6 }), fc.boolean(), fc.nat())
      .map(([before, byte, after, inName, i]) => onDraft((d) => ({ ...d, fields: d.fields.toSpliced(i % (d.fields.length + 1), 0, { line: inName ? `X-${before}${byte}${after}: v` : `X-Junk: ${before}${byte}${after}`, eol: '\r\n' }) }))),
  },
  { weight: 2, arbitrary: fc.nat().map((i) => onDraft((d) => ({ ...d, fields: d.fields.toSpliced(at(d.fields, i), 1) }))) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...LINE_ENDS), fc.nat()).map(([eol, i]) => onDraft((d) => ({ ...d, fields: d.fields.map((f, j) => (j === at(d.fields, i) ? { ...f, eol } : f)) }))) },
  { weight: 1, arbitrary: fc.constantFrom('\n', '', '\r\n\r\n', '\r').map((headEnd) => onDraft((d) => ({ ...d, headEnd }))) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(' folded', '\tfolded', ' ', ' Transfer-Encoding: chunked'), fc.nat()).map(([line, i]) => onDraft((d) => ({ ...d, fields: d.fields.toSpliced(i % (d.fields.length + 1), 0, { line, eol: '\r\n' }) }))) },
  { weight: 4, arbitrary: framingMutation() },
  { weight: 4, arbitrary: chunkMutation() },
  { weight: 2, arbitrary: fc.constantFrom(...PIPELINED).map((after) => onDraft((d) => ({ ...d, after }))) },
  {
    weight: 3,
    arbitrary: fc.tuple(fc.nat(), fc.constantFrom('insert', 'replace', 'delete'), fc.oneof(fc.constantFrom(...JUNK_BYTES, ':', ',', ';', '"', '0', 'a'), fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c))))
      .map(([i, op, byte]) => onBytes((bytes) => {
        const p = i % Math.max(bytes.length, 1);
        return bytes.slice(0, p) + (op === 'delete' ? '' : byte) + bytes.slice(op === 'insert' ? p : p + 1);
      })),
  },
  { weight: 1, arbitrary: fc.nat().map((i) => onBytes((bytes) => bytes.slice(0, i % Math.max(bytes.length, 1)))) },
);

/** A valid request damaged by one to three mutations, split into writes. */
export function hostileCase(): fc.Arbitrary<HttpCase> {
  return asCase(
    fc.record({ draft: validDraft(), mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }) }).map(({ draft, mutations }) => ({ listener: draft.listener, bytes: applyMutations(draft, mutations) })),
  );
}

function applyMutations(draft: Draft, mutations: readonly Mutation[]): string {
  let mutated = draft;
  for (const m of mutations) if (m.on === 'draft') mutated = m.apply(mutated);
  let bytes = serialise(mutated);
  for (const m of mutations) if (m.on === 'bytes') bytes = m.apply(bytes);
  return bytes;
}
