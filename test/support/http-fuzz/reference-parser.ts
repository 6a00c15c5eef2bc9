import { isIPv6 } from 'node:net';

/**
 * The oracle of the request-path fuzzer: an independent reading of RFC 9112 message framing and RFC 9110 field
 * syntax over raw bytes (latin1 strings, one char per byte). It never looks at how the bytes were generated.
 *
 * Strict where the sidecar documents a refusal (docs/malformed-requests.md): bare LF or CR, obs-fold, whitespace
 * before a colon, control bytes in fields, a missing, repeated or malformed Host, framing that is ambiguous.
 * Lenient only where RFC 9112 lets a recipient be and the meaning stays unambiguous: empty lines (CRLF or LF)
 * before a request line (§2.2), runs of SP between the request-line words (§3, llhttp accepts `GET  / HTTP/1.1`; the proxy
 * re-serialises the line), minor versions above 1 read as 1.1 (RFC 9110 §2.5), a Content-Length list repeating one
 * value (RFC 9110 §8.6). A lenient reading is still judged: if such a request is forwarded, what arrives upstream
 * must mean the same.
 */

export interface FieldLine {
  /** As sent (case kept). */
  name: string;
  /** Without the surrounding optional whitespace. */
  value: string;
}

export interface ReferenceRequest {
  /** The request line exactly as sent. */
  requestLine: string;
  method: string;
  /** The request-target as sent. */
  target: string;
  /** The version as sent (`HTTP/1.1`, `HTTP/1.0`, `HTTP/1.5`...). */
  version: string;
  /** 0 for HTTP/1.0; 1 for HTTP/1.1 and any higher 1.x, which a recipient reads as 1.1. */
  minor: 0 | 1;
  fields: FieldLine[];
  /** The body after removing the chunked coding; '' when there is none. */
  body: string;
  /** The trailer section of a chunked body; empty when there is none. */
  trailers: FieldLine[];
  /** What a forward must ask the upstream for: origin-form path and query, or `*`. */
  upstreamTarget: string;
  /** The authority of an absolute-form target, which replaces Host (RFC 9112 §3.2.2). */
  authority: string | undefined;
  /** Whether another request may follow on this connection (`Connection: close`, HTTP/1.0 without keep-alive). */
  persistent: boolean;
  /** Set when the request parses but a proxy cannot forward it faithfully, so it must be refused. */
  refuse: string | undefined;
  /** Offsets of the message in the parsed data. */
  start: number;
  end: number;
}

/** How the data ends after the last complete request. */
export type Tail =
  | { kind: 'end'; unprocessed: number }
  | { kind: 'incomplete'; inBody: boolean; head: ReferenceRequest | undefined }
  | {
      kind: 'invalid';
      reason: string;
      inBody: boolean;
      head: ReferenceRequest | undefined;
      /** For a bad head: whether its blank line arrived. A proxy may wait for it before refusing (llhttp reads `HTTP/0.9` as a version). */
      headEnded?: boolean;
    };

export interface ReferenceParse {
  requests: ReferenceRequest[];
  tail: Tail;
}

export type RequestStep = { kind: 'request'; request: ReferenceRequest } | Exclude<Tail, { kind: 'end' }>;

const TOKEN_CHAR = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";
const TOKEN = new RegExp(`^${TOKEN_CHAR}+$`);
/** field-value (RFC 9110 §5.5): VCHAR, obs-text, SP and HTAB. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const VERSION = /^HTTP\/(\d)\.(\d)$/;
/** chunk-size and chunk-ext (RFC 9112 §7.1.1), with BWS around `;` and `=`. */
const CHUNK_LINE = new RegExp(
  `^([0-9A-Fa-f]+)(?:[ \\t]*;[ \\t]*${TOKEN_CHAR}+(?:[ \\t]*=[ \\t]*(?:${TOKEN_CHAR}+|"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x20-\\x7e\\x80-\\xff])*"))?)*$`,
);
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const REG_NAME = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;

export const isToken = (text: string): boolean => TOKEN.test(text);
const trimOws = (text: string): string => text.replace(/^[ \t]+|[ \t]+$/g, '');

/** Splits a list-based field value (RFC 9110 §5.6.1), dropping empty elements. */
export function listElements(values: readonly string[]): string[] {
  return values
    .join(',')
    .split(',')
    .map(trimOws)
    .filter((element) => element !== '');
}

/** `uri-host [ ":" port ]` (RFC 3986 §3.2.2, §3.2.3) with a non-empty host, as an http authority needs. */
export function isHttpAuthority(authority: string): boolean {
  let host: string;
  let rest: string;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) return false;
    host = authority.slice(0, close + 1);
    rest = authority.slice(close + 1);
    const inner = host.slice(1, -1);
    if (!isIPv6(inner) && !/^v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+$/.test(inner)) return false;
  } else {
    const colon = authority.indexOf(':');
    host = colon < 0 ? authority : authority.slice(0, colon);
    rest = colon < 0 ? '' : authority.slice(colon);
    if (host === '' || !REG_NAME.test(host)) return false;
  }
  return rest === '' || /^:[0-9]*$/.test(rest);
}

type Line = { text: string; next: number } | { incomplete: true } | { invalid: string };

/** One CRLF-terminated line; a bare LF or CR anywhere makes it invalid (RFC 9112 §2.2, strict reading). */
function readLine(data: string, pos: number): Line {
  const lf = data.indexOf('\n', pos);
  const end = lf < 0 ? data.length : lf;
  const cr = data.indexOf('\r', pos);
  if (cr >= 0 && cr < end - 1) return { invalid: 'bare CR' };
  if (lf < 0) return { incomplete: true };
  if (lf === pos || data[lf - 1] !== '\r') return { invalid: 'bare LF as a line terminator' };
  return { text: data.slice(pos, lf - 1), next: lf + 1 };
}

type Fields = { fields: FieldLine[]; next: number } | { incomplete: true } | { invalid: string };

/** Field lines up to and including the empty line that ends them (a header or trailer section). */
function readFields(data: string, pos: number): Fields {
  const fields: FieldLine[] = [];
  for (;;) {
    const line = readLine(data, pos);
    if (!('text' in line)) return line;
    pos = line.next;
    if (line.text === '') return { fields, next: pos };
    if (line.text[0] === ' ' || line.text[0] === '\t') return { invalid: 'obs-fold or a whitespace-preceded field line' };
    const colon = line.text.indexOf(':');
    if (colon < 0) return { invalid: 'field line without a colon' };
    const name = line.text.slice(0, colon);
    if (!isToken(name)) return { invalid: `field name ${JSON.stringify(name)} is not a token` };
    const value = line.text.slice(colon + 1);
    if (!FIELD_VALUE.test(value)) return { invalid: `control byte in the value of ${name}` };
    fields.push({ name, value: trimOws(value) });
  }
}

const valuesOf = (fields: readonly FieldLine[], name: string): string[] => fields.filter((f) => f.name.toLowerCase() === name).map((f) => f.value);

/** Parses one request starting at `pos` (which must be its first byte). */
export function parseRequest(data: string, pos: number): RequestStep {
  const step = parseOne(data, pos);
  if (step.kind === 'invalid' && !step.inBody) step.headEnded = data.indexOf('\r\n\r\n', pos) !== -1;
  return step;
}

function parseOne(data: string, pos: number): RequestStep {
  const start = pos;
  const first = readLine(data, pos);
  if ('incomplete' in first) return { kind: 'incomplete', inBody: false, head: undefined };
  if ('invalid' in first) return { kind: 'invalid', reason: first.invalid, inBody: false, head: undefined };
  const words = first.text.split(/ +/);
  if (words.length !== 3) return invalidHead('request line is not method SP target SP version');
  const [method, target, version] = words as [string, string, string];
  if (!isToken(method)) return invalidHead(`method ${JSON.stringify(method)} is not a token`);
  const versionMatch = VERSION.exec(version);
  if (!versionMatch || versionMatch[1] !== '1') return invalidHead(`version ${JSON.stringify(version)} is not HTTP/1.x`);
  // '#' never appears in a request-target (RFC 9112 §3.2): fragments are for the client alone.
  if (!/^[\x21-\x7e]+$/.test(target) || target.includes('#')) return invalidHead(`request-target ${JSON.stringify(target)} has bytes a target cannot have`);
  const fieldsRead = readFields(data, first.next);
  if ('incomplete' in fieldsRead) return { kind: 'incomplete', inBody: false, head: undefined };
  if ('invalid' in fieldsRead) return invalidHead(fieldsRead.invalid);
  const fields = fieldsRead.fields;
  const minor = versionMatch[2] === '0' ? 0 : 1;

  const hosts = valuesOf(fields, 'host');
  if (hosts.length > 1) return invalidHead('more than one Host field line');
  if (hosts.length === 0 && minor === 1) return invalidHead('HTTP/1.1 request without Host');
  if (hosts[0] !== undefined && !isHttpAuthority(hosts[0])) return invalidHead(`Host ${JSON.stringify(hosts[0])} is not uri-host [":" port]`);

  const form = readTarget(method, target);
  if ('invalid' in form) return invalidHead(form.invalid);
  // llhttp reads Proxy-Connection (pre-standard, RFC 9112 App. C.2.2) like Connection when deciding whether the
  // connection persists; that only changes when the connection ends, never what is forwarded, so we read it too.
  const connection = listElements([...valuesOf(fields, 'connection'), ...valuesOf(fields, 'proxy-connection')]).map((t) => t.toLowerCase());
  const head: ReferenceRequest = {
    requestLine: first.text,
    method,
    target,
    version,
    minor,
    fields,
    body: '',
    trailers: [],
    upstreamTarget: form.upstreamTarget,
    authority: form.authority,
    // After CONNECT the bytes are tunnel data, never requests.
    persistent: method !== 'CONNECT' && !connection.includes('close') && (minor === 1 || connection.includes('keep-alive')),
    refuse: form.refuse,
    start,
    end: fieldsRead.next,
  };

  const framing = readFraming(head);
  if ('invalid' in framing) return invalidHead(framing.invalid);
  if (framing.refuse !== undefined && head.refuse === undefined) head.refuse = framing.refuse;
  const body = framing.chunked ? readChunked(data, fieldsRead.next) : readLength(data, fieldsRead.next, framing.length);
  if ('incomplete' in body) return { kind: 'incomplete', inBody: true, head };
  if ('invalid' in body) return { kind: 'invalid', reason: body.invalid, inBody: true, head };
  return { kind: 'request', request: { ...head, body: body.body, trailers: body.trailers ?? [], end: body.next } };
}

function invalidHead(reason: string): RequestStep {
  return { kind: 'invalid', reason, inBody: false, head: undefined };
}

type TargetForm = { upstreamTarget: string; authority: string | undefined; refuse: string | undefined } | { invalid: string };

function readTarget(method: string, target: string): TargetForm {
  if (method === 'CONNECT') {
    // authority-form; tunnels are not proxied here, so it is refused whatever the target (501 documented).
    return { upstreamTarget: target, authority: undefined, refuse: 'CONNECT is not proxied' };
  }
  if (target.startsWith('/')) return { upstreamTarget: target, authority: undefined, refuse: undefined };
  if (target === '*') {
    if (method !== 'OPTIONS') return { invalid: 'asterisk-form target for a method other than OPTIONS' };
    return { upstreamTarget: '*', authority: undefined, refuse: undefined };
  }
  const scheme = SCHEME.exec(target);
  if (!scheme) return { invalid: `request-target ${JSON.stringify(target)} is in no form` };
  if (scheme[1]!.toLowerCase() !== 'http') return { upstreamTarget: target, authority: undefined, refuse: `only http URIs are proxied, not ${scheme[1]}:` };
  const rest = target.slice(scheme[0].length);
  if (!rest.startsWith('//')) return { invalid: 'http URI without an authority' };
  const after = rest.slice(2);
  const authorityEnd = after.search(/[/?]/);
  const authority = authorityEnd < 0 ? after : after.slice(0, authorityEnd);
  // RFC 9110 §4.2.4: userinfo in an http URI from an untrusted source is an error.
  if (authority.includes('@')) return { invalid: 'userinfo in an http URI' };
  if (!isHttpAuthority(authority)) return { invalid: `authority ${JSON.stringify(authority)} is not uri-host [":" port]` };
  const pathAndQuery = authorityEnd < 0 ? '' : after.slice(authorityEnd);
  return { upstreamTarget: pathAndQuery.startsWith('/') ? pathAndQuery : `/${pathAndQuery}`, authority, refuse: undefined };
}

type Framing = { chunked: boolean; length: bigint; refuse: string | undefined } | { invalid: string };

/** Message body length (RFC 9112 §6.3). */
function readFraming(head: ReferenceRequest): Framing {
  const te = valuesOf(head.fields, 'transfer-encoding');
  if (te.length > 0) {
    if (head.minor === 0) return { invalid: 'Transfer-Encoding in an HTTP/1.0 request' };
    const codings = listElements(te).map((coding) => coding.toLowerCase());
    if (codings.some((coding) => !isToken(coding.split(';')[0]!.trim()))) return { invalid: 'Transfer-Encoding lists something that is not a coding' };
    if (codings.at(-1) !== 'chunked') return { invalid: 'chunked is not the final transfer coding' };
    if (codings.filter((coding) => coding === 'chunked').length > 1) return { invalid: 'chunked applied more than once' };
    // The sidecar strips Transfer-Encoding (hop-by-hop), so any other coding would reach the upstream undeclared.
    const refuse = codings.length > 1 ? `transfer codings other than chunked (${codings.join(', ')})` : undefined;
    return { chunked: true, length: 0n, refuse };
  }
  const lengths = listElements(valuesOf(head.fields, 'content-length'));
  if (valuesOf(head.fields, 'content-length').length > 0 && lengths.length === 0) return { invalid: 'empty Content-Length' };
  if (lengths.some((value) => !/^[0-9]+$/.test(value))) return { invalid: 'Content-Length is not 1*DIGIT' };
  if (new Set(lengths).size > 1) return { invalid: 'Content-Length values differ' };
  return { chunked: false, length: lengths[0] === undefined ? 0n : BigInt(lengths[0]), refuse: undefined };
}

type Body = { body: string; next: number; trailers?: FieldLine[] } | { incomplete: true } | { invalid: string };

function readLength(data: string, pos: number, length: bigint): Body {
  if (BigInt(data.length - pos) < length) return { incomplete: true };
  const end = pos + Number(length);
  return { body: data.slice(pos, end), next: end };
}

function readChunked(data: string, pos: number): Body {
  let body = '';
  for (;;) {
    const line = readLine(data, pos);
    if (!('text' in line)) return line;
    const match = CHUNK_LINE.exec(line.text);
    if (!match) return { invalid: `chunk line ${JSON.stringify(line.text.slice(0, 40))}` };
    const size = BigInt(`0x${match[1]}`);
    pos = line.next;
    if (size === 0n) {
      const trailers = readFields(data, pos);
      if ('fields' in trailers) return { body, next: trailers.next, trailers: trailers.fields };
      return 'invalid' in trailers ? { invalid: `trailer: ${trailers.invalid}` } : trailers;
    }
    if (BigInt(data.length - pos) < size) return { incomplete: true };
    const end = pos + Number(size);
    body += data.slice(pos, end);
    const crlf = data.slice(end, end + 2);
    if (crlf !== '\r\n'.slice(0, crlf.length)) return { invalid: 'chunk data not followed by CRLF' };
    if (crlf.length < 2) return { incomplete: true };
    pos = end + 2;
  }
}

/**
 * Every request in `data`, in order, and how the data ends. Parsing stops after a request that closes the
 * connection: a server must not process anything after it (RFC 9112 §9.6).
 */
export function parseRequestStream(data: string): ReferenceParse {
  const requests: ReferenceRequest[] = [];
  let pos = 0;
  for (;;) {
    // RFC 9112 §2.2: a server SHOULD ignore at least one empty line received before the request line, and MAY
    // take a bare LF for a line terminator; llhttp skips both (nothing of them is forwarded).
    for (;;) {
      if (data.startsWith('\r\n', pos)) pos += 2;
      else if (data.startsWith('\n', pos)) pos += 1;
      else break;
    }
    if (pos >= data.length) return { requests, tail: { kind: 'end', unprocessed: 0 } };
    const step = parseRequest(data, pos);
    if (step.kind !== 'request') return { requests, tail: step };
    requests.push(step.request);
    pos = step.request.end;
    if (!step.request.persistent) return { requests, tail: { kind: 'end', unprocessed: data.length - pos } };
  }
}
