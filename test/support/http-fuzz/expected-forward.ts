import { listElements, type FieldLine, type ReferenceRequest } from './reference-parser.ts';

/** Whitespace at the edges of a field value is OWS on the wire: it never counts. */
const trimEdges = (value: string): string => value.replace(/^[ \t]+|[ \t]+$/g, '');

export type Listener = 'inbound' | 'outbound';

/** The request an upstream saw, as the recording upstream parsed it. */
export interface ForwardedRequest {
  method: string;
  target: string;
  fields: FieldLine[];
  body: string;
  trailers: FieldLine[];
}

/** Connection-specific fields (RFC 9110 §7.6.1) plus those the sidecar consumes; none may reach the upstream. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'proxy-authorization', 'http2-settings']);

/**
 * Fields a sender must not repeat (RFC 9110 §5.3: not lists). When a client repeats one anyway, Node keeps the first
 * field line (its documented `IncomingMessage.headers` behaviour), a repair of an invalid message that we accept.
 */
const SINGLETON_FIELDS = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after',
  'server', 'user-agent',
]);

/** Fields a trailer may not carry (RFC 9110 §6.5.1) or that are connection-specific: never forwarded in one. */
const FORBIDDEN_TRAILERS = new Set([
  'content-length', 'content-type', 'content-encoding', 'content-range', 'transfer-encoding', 'trailer', 'host', 'authorization',
  'proxy-authorization', 'cookie', 'set-cookie', 'connection', 'keep-alive', 'proxy-connection', 'te', 'upgrade',
]);

/** Fields whose upstream value the proxy itself decides; checked one by one below rather than copied. */
const SET_BY_PROXY = new Set(['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-request-id', 'te', 'expect', 'content-length']);

const CLIENT_ADDRESS = '127.0.0.1';
const OUTBOUND_SOURCE = 'app.default';
const GENERATED_REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function group(fields: readonly FieldLine[]): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const { name, value } of fields) {
    const key = name.toLowerCase();
    byName.set(key, [...(byName.get(key) ?? []), value]);
  }
  return byName;
}

/**
 * Whether the upstream's field lines carry what the client sent: the same lines, or one line combining them in
 * order (RFC 9110 §5.3; `; ` for Cookie, RFC 6265 §5.4), or for a repeated singleton field its first value.
 */
function carries(name: string, sent: readonly string[], got: readonly string[]): boolean {
  if (got.length === sent.length && got.every((value, i) => value === sent[i])) return true;
  if (got.length !== 1) return false;
  return got[0] === trimEdges(sent.join(name === 'cookie' ? '; ' : ', ')) || (SINGLETON_FIELDS.has(name) && got[0] === sent[0]);
}

const show = (values: readonly string[] | undefined): string => JSON.stringify(values ?? null);

/**
 * Compares a forwarded request with the one the client sent. The proxy must keep the method, the target (origin-form,
 * or the path of an absolute-form one), every end-to-end field and the body bytes; it drops hop-by-hop fields and those
 * `Connection` names (not Host or Content-Length), drops `Expect` (it answered 100-continue itself), may keep
 * `TE: trailers`, appends the client to `x-forwarded-for`, adds `x-forwarded-proto: http` when absent, keeps a usable
 * `x-request-id` or generates one, and on the outbound listener names the caller in `x-outrigger-source`.
 * Returns the differences, empty when the forward is faithful.
 */
export function compareForward(sent: ReferenceRequest, listener: Listener, got: ForwardedRequest): string[] {
  const problems: string[] = [];
  if (got.method !== sent.method) problems.push(`method ${JSON.stringify(got.method)}, sent ${JSON.stringify(sent.method)}`);
  if (got.target !== sent.upstreamTarget) problems.push(`target ${JSON.stringify(got.target)}, expected ${JSON.stringify(sent.upstreamTarget)}`);
  if (got.body !== sent.body) problems.push(`body ${JSON.stringify(got.body.slice(0, 200))} (${got.body.length} bytes), sent ${JSON.stringify(sent.body.slice(0, 200))} (${sent.body.length} bytes)`);

  const sentFields = group(sent.fields);
  const gotFields = group(got.fields);
  const named = listElements(sentFields.get('connection') ?? []).map((token) => token.toLowerCase());
  const removed = new Set([...HOP_BY_HOP, ...named.filter((name) => name !== 'host' && name !== 'content-length')]);
  const kept = (name: string): string[] | undefined => (removed.has(name) ? undefined : sentFields.get(name));
  const proxySet = new Set([...SET_BY_PROXY, ...(listener === 'outbound' ? ['x-outrigger-source'] : [])]);

  for (const [name, values] of sentFields) {
    if (removed.has(name) || proxySet.has(name)) continue;
    const received = gotFields.get(name);
    if (!received || !carries(name, values, received)) problems.push(`field ${name}: upstream got ${show(received)}, sent ${show(values)}`);
  }
  for (const [name, values] of gotFields) {
    // undici manages the upstream connection; framing is checked by the recording upstream's own parse.
    if (name === 'connection' || name === 'transfer-encoding' || proxySet.has(name)) continue;
    if (kept(name) === undefined) problems.push(`field ${name}: upstream got ${show(values)}, which the client did not send end to end`);
  }

  const host = gotFields.get('host');
  const expectedHost = sent.authority ?? sentFields.get('host')?.[0];
  if (host?.length !== 1 || (expectedHost !== undefined && host[0] !== expectedHost)) problems.push(`host: upstream got ${show(host)}, expected ${JSON.stringify(expectedHost ?? 'one Host')}`);

  // Repeated lines are combined as Node does (`, `), before the proxy reads or extends the value.
  const combined = (name: string): string | undefined => kept(name)?.join(', ');
  const prior = combined('x-forwarded-for');
  const xff = trimEdges(prior ? `${prior}, ${CLIENT_ADDRESS}` : CLIENT_ADDRESS);
  if (show(gotFields.get('x-forwarded-for')) !== show([xff])) problems.push(`x-forwarded-for: upstream got ${show(gotFields.get('x-forwarded-for'))}, expected ${JSON.stringify(xff)}`);
  const proto = trimEdges(combined('x-forwarded-proto') ?? 'http');
  if (show(gotFields.get('x-forwarded-proto')) !== show([proto])) problems.push(`x-forwarded-proto: upstream got ${show(gotFields.get('x-forwarded-proto'))}, expected ${JSON.stringify(proto)}`);

  const requestId = combined('x-request-id');
  const gotId = gotFields.get('x-request-id');
  const usable = requestId !== undefined && requestId !== '' && requestId.length <= 256;
  if (gotId?.length !== 1 || (usable ? gotId[0] !== trimEdges(requestId) : !GENERATED_REQUEST_ID.test(gotId[0]!))) {
    problems.push(`x-request-id: upstream got ${show(gotId)}, expected ${usable ? JSON.stringify(requestId) : 'a generated UUID'}`);
  }

  const te = gotFields.get('te');
  const trailersAsked = listElements(sentFields.get('te') ?? []).some((coding) => coding.split(';')[0]!.trim().toLowerCase() === 'trailers');
  if (te !== undefined && !(trailersAsked && show(te) === show(['trailers']))) problems.push(`te: upstream got ${show(te)}; only "trailers", and only when asked, may pass`);
  if (gotFields.has('expect')) problems.push(`expect reached the upstream: ${show(gotFields.get('expect'))}`);

  // Request trailers pass only when the request announced them (a `Trailer` field on a chunked body), minus those a
  // trailer may not carry; repeated lines are combined as Node does.
  const announced = sentFields.has('trailer') && sentFields.has('transfer-encoding');
  const expectedTrailers = announced ? [...group(sent.trailers)].filter(([name]) => !FORBIDDEN_TRAILERS.has(name)).map(([name, values]) => [name, values.join(', ')]) : [];
  const gotTrailers = [...group(got.trailers)].map(([name, values]) => [name, values.join(', ')]);
  const sortPairs = (pairs: string[][]): string => JSON.stringify([...pairs].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)));
  if (sortPairs(gotTrailers) !== sortPairs(expectedTrailers)) problems.push(`trailers: upstream got ${sortPairs(gotTrailers)}, expected ${sortPairs(expectedTrailers)}`);

  if (listener === 'outbound' && show(gotFields.get('x-outrigger-source')) !== show([OUTBOUND_SOURCE])) {
    problems.push(`x-outrigger-source: upstream got ${show(gotFields.get('x-outrigger-source'))}, expected ${JSON.stringify(OUTBOUND_SOURCE)}`);
  }
  return problems;
}
