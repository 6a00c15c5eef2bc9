import fc from 'fast-check';
import type { Listener } from './expected-forward.ts';
import { hitsKnownGap } from './known-gaps.ts';
import type { HttpCase } from './run-case.ts';

/**
 * A request as pieces of text (latin1, one char per byte) that the generators fill in and the mutations damage.
 * Nothing here decides what the request means: the oracle reads the serialised bytes.
 */
export interface Draft {
  listener: Listener;
  /** Bytes before the request line (RFC 9112 §2.2 tolerates empty lines there). */
  leading: string;
  method: string;
  sep1: string;
  target: string;
  sep2: string;
  version: string;
  lineEnd: string;
  fields: DraftField[];
  /** Where the framing fields (Content-Length, Transfer-Encoding) go among the others. */
  framingAt: number;
  headEnd: string;
  body: DraftBody;
  /** Bytes after the request: a pipelined request, or junk. */
  after: string;
}

export interface DraftField {
  line: string;
  eol: string;
}

export interface Chunk {
  size: string;
  ext: string;
  data: string;
  end: string;
}

export interface DraftBody {
  contentLength: string[];
  transferEncoding: string[];
  content: { kind: 'raw'; bytes: string } | { kind: 'chunked'; chunks: Chunk[]; last: string | undefined; trailers: string[] };
}

export function serialise(draft: Draft): string {
  const framing = [...draft.body.contentLength.map((v) => `Content-Length: ${v}`), ...draft.body.transferEncoding.map((v) => `Transfer-Encoding: ${v}`)];
  const fields = [...draft.fields];
  fields.splice(draft.framingAt % (fields.length + 1), 0, ...framing.map((line) => ({ line, eol: '\r\n' })));
  const head = `${draft.leading}${draft.method}${draft.sep1}${draft.target}${draft.sep2}${draft.version}${draft.lineEnd}${fields.map((f) => f.line + f.eol).join('')}${draft.headEnd}`;
  const content = draft.body.content;
  const body =
    content.kind === 'raw'
      ? content.bytes
      : content.chunks.map((c) => `${c.size}${c.ext}\r\n${c.data}${c.end}`).join('') + (content.last === undefined ? '' : `${content.last}${content.trailers.map((t) => `${t}\r\n`).join('')}\r\n`);
  return head + body + draft.after;
}

/** Splits bytes into writes at the given positions (taken modulo the length; duplicates and ends ignored). */
export function splitAt(bytes: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.map((cut) => cut % Math.max(bytes.length, 1)).filter((p) => p > 0))].sort((a, b) => a - b);
  const parts: string[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    parts.push(bytes.slice(from, point));
    from = point;
  }
  return parts.filter((part, i) => part !== '' || i === 0);
}

/**
 * Request bytes for one listener, split into 1..6 writes at random places (inside CRLFs, field names, chunk sizes...).
 * Cases that would hit a known bug (known-gaps.ts) are skipped.
 */
export function asCase(source: fc.Arbitrary<{ listener: Listener; bytes: string }>): fc.Arbitrary<HttpCase> {
  return fc
    .tuple(source, fc.array(fc.nat({ max: 100_000 }), { maxLength: 5 }))
    .map(([{ listener, bytes }, cuts]) => ({ listener, parts: splitAt(bytes, cuts) }))
    .filter((fuzzCase) => !hitsKnownGap(fuzzCase));
}

const chars = (text: string): string[] => [...text];
const TCHARS = chars("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
const UNRESERVED = chars('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~');
const PATH_UNITS = [...UNRESERVED, ...chars("!$&'()*+,;=:@"), '%2F', '%41', '%20', '%e9'];
const QUERY_UNITS = [...PATH_UNITS, '/', '?'];
/** field-value bytes: VCHAR, a little obs-text, and SP/HTAB (inside a value; the edges are OWS). */
const VALUE_UNITS = [...chars('abcXYZ019 -_.,;:=/"()<>@[]{}?\\\'!#$%&*+^`|~\t'), '\x80', '\xe9', '\xff'];
const BYTE = fc.integer({ min: 0, max: 255 }).map((code) => String.fromCharCode(code));

/** Names the protocol gives a meaning; only the dedicated generators and mutations produce them. */
const PROTOCOL_FIELDS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect', 'te', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'http2-settings', 'trailer']);
/** Not lists (RFC 9110 §5.3): a valid request carries each at most once. */
const SINGLETONS = new Set(['authorization', 'content-type', 'user-agent', 'referer', 'from', 'max-forwards', 'if-modified-since']);

const fieldName = fc
  .oneof(
    { weight: 3, arbitrary: fc.constantFrom('Accept', 'X-Dup', 'x-dup', 'Cookie', 'Cache-Control', 'X-Forwarded-For', 'X-Forwarded-Proto', 'X-Request-Id', 'Authorization', 'Via', 'Content-Type', 'User-Agent', 'If-None-Match', 'X-Outrigger-Source', 'Traceparent') },
    { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 10 }) },
  )
  .filter((name) => !PROTOCOL_FIELDS.has(name.toLowerCase()));
const ows = fc.constantFrom('', ' ', ' ', '\t', '  ');
const fieldValue = fc.oneof(
  { weight: 9, arbitrary: fc.string({ unit: fc.constantFrom(...VALUE_UNITS), maxLength: 24 }) },
  { weight: 1, arbitrary: fc.constantFrom('r'.repeat(300), 'v'.repeat(2_000)) },
);
const endToEndField = fc.tuple(fieldName, ows, fieldValue, ows).map(([name, a, value, b]) => ({ name, line: `${name}:${a}${value}${b}` }));

/** Fields with a protocol meaning the proxy must act on, as coherent groups. */
const PROTOCOL_GROUPS: string[][] = [
  ['Connection: close'],
  ['Connection: keep-alive'],
  ['Connection: X-Hop, keep-alive', 'X-Hop: dropped'],
  ['Connection: x-forwarded-for', 'X-Forwarded-For: 10.0.0.1'],
  ['TE: trailers'],
  ['TE: trailers, deflate;q=0.5', 'Connection: TE'],
  ['Trailer: X-Checksum'],
  ['Trailer: X-Trailer, X-Checksum', 'TE: trailers'],
  ['Expect: 100-continue'],
  ['Keep-Alive: timeout=5'],
  ['Proxy-Authorization: Basic Zm9vOmJhcg=='],
  ['Proxy-Connection: keep-alive'],
  ['Upgrade: h2c', 'Connection: Upgrade, HTTP2-Settings', 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA'],
];

const segment = fc.string({ unit: fc.constantFrom(...PATH_UNITS), maxLength: 8 });
const originTarget = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.option(fc.string({ unit: fc.constantFrom(...QUERY_UNITS), maxLength: 12 }), { nil: undefined }))
  .map(([segments, query]) => `/${segments.join('/')}${query === undefined ? '' : `?${query}`}`);
/** Authorities that name the test's `raw` Service from the outbound listener. */
const RAW_AUTHORITIES = ['raw', 'RAW', 'raw:80', 'raw.default', 'raw.default.svc', 'raw.default.svc.cluster.local', 'raw.default.svc.cluster.local.'];
const absoluteTarget = fc
  .tuple(fc.constantFrom('http://', 'HTTP://', 'Http://'), fc.constantFrom(...RAW_AUTHORITIES), fc.oneof(originTarget, fc.constant(''), fc.constant('?q=1')))
  .map(([scheme, authority, rest]) => `${scheme}${authority}${rest}`);

const payload = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: BYTE, maxLength: 48 }) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ unit: BYTE, minLength: 1, maxLength: 8 }), fc.integer({ min: 50, max: 500 })).map(([piece, n]) => piece.repeat(n).slice(0, 3_000)) },
);

function chunked(bytes: string, cuts: number[], sizeStyle: number, exts: string[], last: string, trailers: string[]): DraftBody['content'] {
  const points = [...new Set(cuts.map((cut) => cut % Math.max(bytes.length, 1)).filter((p) => p > 0))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    if (point > from) pieces.push(bytes.slice(from, point));
    from = point;
  }
  const size = (n: number): string => (sizeStyle === 0 ? n.toString(16) : sizeStyle === 1 ? n.toString(16).toUpperCase() : `00${n.toString(16)}`);
  return { kind: 'chunked', chunks: pieces.map((data, i) => ({ size: size(data.length), ext: exts[i % exts.length] ?? '', data, end: '\r\n' })), last, trailers };
}

const validBody = (version: string): fc.Arbitrary<DraftBody> =>
  fc.oneof(
    fc.constant<DraftBody>({ contentLength: [], transferEncoding: [], content: { kind: 'raw', bytes: '' } }),
    payload.map((bytes): DraftBody => ({ contentLength: [String(bytes.length)], transferEncoding: [], content: { kind: 'raw', bytes } })),
    ...(version === 'HTTP/1.0'
      ? []
      : [
          fc
            .record({
              bytes: payload,
              cuts: fc.array(fc.nat({ max: 10_000 }), { maxLength: 4 }),
              sizeStyle: fc.nat({ max: 2 }),
              exts: fc.array(fc.constantFrom('', ';a=b', ';name', ';q="x y"', ';a=b;c=d'), { minLength: 1, maxLength: 3 }),
              last: fc.constantFrom('0\r\n', '000\r\n', '0;end=1\r\n'),
              trailers: fc.subarray(['X-Trailer: t', 'X-Checksum: 1']),
              te: fc.constantFrom('chunked', 'Chunked'),
            })
            .map(({ bytes, cuts, sizeStyle, exts, last, trailers, te }): DraftBody => ({ contentLength: [], transferEncoding: [te], content: chunked(bytes, cuts, sizeStyle, exts, last, trailers) })),
        ]),
  );

/** Keeps the first of each singleton field, so the request stays valid. */
function withoutRepeatedSingletons(fields: { name: string; line: string }[]): { name: string; line: string }[] {
  const seen = new Set<string>();
  return fields.filter(({ name }) => {
    const key = name.toLowerCase();
    if (!SINGLETONS.has(key)) return true;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Requests that are valid HTTP/1.1 (or 1.0) and that the sidecar can forward: known methods, origin-form targets
 * (absolute-form too on the outbound listener), a Host naming the `raw` Service, end-to-end fields with odd but legal
 * names and values, protocol fields the proxy must act on, and a body framed by Content-Length or chunked coding.
 */
export function validCase(): fc.Arbitrary<HttpCase> {
  return asCase(validDraft().map((draft) => ({ listener: draft.listener, bytes: serialise(draft) })));
}

export function validDraft(): fc.Arbitrary<Draft> {
  return fc
    .record({ listener: fc.constantFrom<Listener>('inbound', 'outbound'), version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0') })
    .chain(({ listener, version }) =>
      fc.record({
        listener: fc.constant(listener),
        leading: fc.constantFrom('', '', '', '\r\n'),
        method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
        sep1: fc.constant(' '),
        target: listener === 'outbound' ? fc.oneof({ weight: 3, arbitrary: originTarget }, { weight: 1, arbitrary: absoluteTarget }) : originTarget,
        sep2: fc.constant(' '),
        version: fc.constant(version),
        lineEnd: fc.constant('\r\n'),
        fields: fc
          .tuple(
            fc.array(endToEndField, { maxLength: 8 }),
            fc.subarray(PROTOCOL_GROUPS, { maxLength: 3 }),
            fc.constantFrom(...RAW_AUTHORITIES),
            fc.nat(),
          )
          .map(([endToEnd, groups, host, hostAt]) => {
            const lines = [...withoutRepeatedSingletons(endToEnd).map((f) => f.line), ...groups.flat()];
            lines.splice(hostAt % (lines.length + 1), 0, `Host: ${host}`);
            return lines.map((line) => ({ line, eol: '\r\n' }));
          }),
        framingAt: fc.nat(),
        headEnd: fc.constant('\r\n'),
        body: validBody(version),
        after: fc.constant(''),
      }),
    );
}
