import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/**
 * Connection-specific headers (RFC 9110 §7.6.1) never cross a proxy. `proxy-authorization` is ours to consume;
 * `http2-settings` belongs to an h2c upgrade we do not perform. `te` is kept only as `te: trailers`.
 */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'proxy-authorization', 'http2-settings'] as const;

type HeaderBag = IncomingHttpHeaders | OutgoingHttpHeaders;

/** The most response-head bytes an upstream may send (both upstream clients); Node's own default is 16 KiB. */
export const MAX_UPSTREAM_HEADER_BYTES = 64 * 1024;

/** Removes hop-by-hop headers and every header the `Connection` header names, in place. */
export function stripHopByHop(headers: HeaderBag, keepTeTrailers: boolean): void {
  const connection = headers.connection;
  // Nearly every response says `connection: keep-alive`, which names only a header deleted below anyway.
  if (connection !== undefined && connection !== 'keep-alive') {
    const named = Array.isArray(connection) ? connection.join(',') : String(connection);
    for (const token of named.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '' && name !== 'host' && name !== 'content-length') delete headers[name];
    }
  }
  const te = headers.te;
  for (const name of HOP_BY_HOP) delete headers[name];
  if (keepTeTrailers && typeof te === 'string' && /(^|,)\s*trailers\s*(;|,|$)/i.test(te)) headers.te = 'trailers';
}

/** Appends the client address to `x-forwarded-for` and records the protocol the client spoke. */
export function addForwardedHeaders(headers: IncomingHttpHeaders, clientAddress: string | undefined): void {
  if (clientAddress !== undefined) {
    const prior = headers['x-forwarded-for'];
    headers['x-forwarded-for'] = prior ? `${prior}, ${clientAddress}` : clientAddress;
  }
  if (headers['x-forwarded-proto'] === undefined) headers['x-forwarded-proto'] = 'http';
}

/**
 * Fields a trailer may not carry (RFC 9110 §6.5.1: framing, routing, authentication, content metadata) or that are
 * connection-specific. They are dropped, not forwarded.
 */
const FORBIDDEN_TRAILERS = new Set([
  'content-length',
  'content-type',
  'content-encoding',
  'content-range',
  'transfer-encoding',
  'trailer',
  'host',
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'upgrade',
]);

/** The trailers that may cross the proxy, either way. */
export function forwardableTrailers(trailers: NodeJS.Dict<string | string[]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(trailers)) if (value !== undefined && !FORBIDDEN_TRAILERS.has(name)) out[name] = value;
  return out;
}
