import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestContext } from '../../pipeline/context.ts';

/**
 * The header a calling sidecar sets on every mesh hop to name its Service (`name.namespace`), overwriting any the
 * app sent. Same value as `SOURCE_HEADER` in sidecar/listeners/outbound.ts (not imported: layers do not depend on
 * listeners).
 */
export const SOURCE_HEADER = 'x-outrigger-source';

/** The bucket shared by requests that lack what the key reads (no such header, no source, no address). */
export const UNKEYED = 'unkeyed';
/** The bucket of a rule without `key`: every request. */
export const ALL = '*';

/** Longer key values are replaced by a hash, so a client cannot make huge Redis keys or map entries. */
const MAX_VALUE_CHARS = 128;

export type KeySpec = { type: 'Header'; header: string } | { type: 'ClientAddress' } | { type: 'SourceService' };

/**
 * Builds the function that names a request's bucket. Keys carry their kind (`h:`, `ip:`, `src:`) so that no value
 * can collide with another kind or with `unkeyed`:
 * - `Header`: the header's value (repeated headers joined with ", "); requests without it share `unkeyed`.
 * - `SourceService`: `x-outrigger-source`. On inbound, the calling sidecar set it; on outbound, our own outbound
 *   listener set it to this sidecar's Service. Requests from outside the mesh share `unkeyed`.
 * - `ClientAddress`: see {@link clientAddress}.
 */
export function requestKey(spec: KeySpec | undefined): (ctx: RequestContext) => string {
  if (!spec) return () => ALL;
  switch (spec.type) {
    case 'Header': {
      const name = spec.header.toLowerCase();
      return (ctx) => keyed('h:', headerText(ctx.req.headers, name));
    }
    case 'SourceService':
      return (ctx) => keyed('src:', headerText(ctx.req.headers, SOURCE_HEADER));
    case 'ClientAddress':
      return (ctx) => keyed('ip:', clientAddress(ctx));
  }
}

/**
 * The client's IP address.
 * - Outbound: the socket peer, i.e. the local app.
 * - Inbound from a calling sidecar (the request carries `x-outrigger-source`): the socket peer is that sidecar, so
 *   the client is the address *it* saw, the rightmost `x-forwarded-for` entry it appended (the one just before the
 *   entry our inbound listener appended for the peer). If that entry is missing, not an IP, or loopback (an app
 *   talking to its own sidecar over 127.0.0.1), the calling sidecar's own address stands for its pod.
 * - Inbound from anything else: the socket peer. Entries further left were written by clients and are never used:
 *   a client could pick any bucket with them (Envoy's `xff_num_trusted_hops: 0` default does the same).
 * Without mTLS, `x-outrigger-source` is as trustworthy as the network that can reach the inbound port.
 */
export function clientAddress(ctx: RequestContext): string | undefined {
  const peer = normaliseIp(ctx.req.socket.remoteAddress);
  if (ctx.direction === 'outbound' || ctx.req.headers[SOURCE_HEADER] === undefined) return peer;
  const hops = forwardedFor(ctx.req.headers['x-forwarded-for']);
  if (hops.length > 0 && normaliseIp(hops[hops.length - 1]) === peer) hops.pop();
  const seen = normaliseIp(hops[hops.length - 1]);
  if (seen === undefined || isIP(seen) === 0 || isLoopback(seen)) return peer;
  return seen;
}

function keyed(prefix: string, value: string | undefined): string {
  if (value === undefined || value === '') return UNKEYED;
  if (value.length <= MAX_VALUE_CHARS) return prefix + value;
  return `${prefix}#${createHash('sha256').update(value).digest('base64url').slice(0, 32)}`;
}

function headerText(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function forwardedFor(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(',') : value;
  return text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
}

function normaliseIp(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const trimmed = address.trim();
  return trimmed.toLowerCase().startsWith('::ffff:') && isIP(trimmed.slice(7)) === 4 ? trimmed.slice(7) : trimmed;
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || (isIP(ip) === 4 && ip.startsWith('127.'));
}
