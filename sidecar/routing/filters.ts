import type { HTTPHeaderModifier, HTTPPathModifier, HTTPRouteFilter } from '../../policy/schema/http-route.ts';
import { normalizePrefix, prefixMatches } from './path-prefix.ts';

export type RequestRedirect = Extract<HTTPRouteFilter, { type: 'RequestRedirect' }>['requestRedirect'];
export type RequestMirror = Extract<HTTPRouteFilter, { type: 'RequestMirror' }>['requestMirror'];
type Headers = Record<string, string | string[] | undefined>;

/**
 * Applies a RequestHeaderModifier or ResponseHeaderModifier to a header record with lower-case names (node's
 * IncomingHttpHeaders, or an outgoing record built from one). Names in `mod` are matched case-insensitively.
 *
 * Order, as Envoy (and so Envoy Gateway) applies them: `remove` first, then `set` (replaces any value), then `add`
 * (appends: comma-joined to an existing string, pushed onto an existing array; `set-cookie` always becomes an array,
 * since cookies cannot be comma-joined).
 */
export function applyHeaderModifier(headers: Headers, mod: HTTPHeaderModifier): void {
  for (const name of mod.remove ?? []) delete headers[name.toLowerCase()];
  for (const { name, value } of mod.set ?? []) headers[name.toLowerCase()] = value;
  for (const { name, value } of mod.add ?? []) {
    const key = name.toLowerCase();
    const existing = Object.hasOwn(headers, key) ? headers[key] : undefined;
    if (Array.isArray(existing)) headers[key] = [...existing, value];
    else if (typeof existing !== 'string') headers[key] = value;
    else if (key === 'set-cookie') headers[key] = [existing, value];
    else headers[key] = `${existing},${value}`;
  }
}

/**
 * Applies an HTTPPathModifier (URLRewrite or RequestRedirect `path`) to a path without its query.
 *
 * ReplaceFullPath replaces the whole path. ReplacePrefixMatch replaces the part of the path the rule's PathPrefix
 * matched, element-wise, with trailing slashes of both prefixes ignored — the Gateway API table:
 * prefix `/foo` + `/xyz`: `/foo/bar` → `/xyz/bar`, `/foo` → `/xyz`, `/foo/` → `/xyz/`;
 * prefix `/foo` + `/`: `/foo/bar` → `/bar`, `/foo` → `/`, `/foo/` → `/`.
 * `matchedPrefix` is the configured PathPrefix value of the matched rule; without one (the rule did not match by
 * prefix, which compileRouteTables rejects) or when the path does not start with it, the path is returned unchanged.
 */
export function rewritePath(path: string, modifier: HTTPPathModifier, matchedPrefix: string | undefined): string {
  if (modifier.type === 'ReplaceFullPath') return modifier.replaceFullPath;
  if (matchedPrefix === undefined) return path;
  const prefix = normalizePrefix(matchedPrefix);
  if (!prefixMatches(path, prefix)) return path;
  const rewritten = normalizePrefix(modifier.replacePrefixMatch) + path.slice(prefix.length);
  return rewritten === '' ? '/' : rewritten;
}

const DEFAULT_PORT = { http: 80, https: 443 } as const;

export interface RedirectRequest {
  scheme: 'http' | 'https';
  /** The authority without its port: a name, an IPv4 address, or an IPv6 address with or without brackets. */
  host: string;
  /** The port the request arrived on (the Service port in the mesh). */
  port?: number;
  path: string;
  /** Raw query without `?`, `''` when none. */
  query: string;
}

/**
 * The absolute `Location` of a RequestRedirect, following Gateway API:
 * - scheme and hostname default to the request's; `path` is rewritten as by URLRewrite; the query is kept.
 * - Port: the configured one; else, when the redirect sets a scheme, that scheme's well-known port (80, 443); else the
 *   port the request arrived on.
 * - The port is left out when it is the default for the resulting scheme (80 for http, 443 for https).
 */
export function redirectLocation(req: RedirectRequest, redirect: RequestRedirect, matchedPrefix: string | undefined): string {
  const scheme = redirect.scheme ?? req.scheme;
  const port = redirect.port ?? (redirect.scheme !== undefined ? DEFAULT_PORT[redirect.scheme] : req.port);
  const host = redirect.hostname ?? req.host;
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const authority = port === undefined || port === DEFAULT_PORT[scheme] ? bracketed : `${bracketed}:${port}`;
  const path = redirect.path === undefined ? req.path : rewritePath(req.path, redirect.path, matchedPrefix);
  return `${scheme}://${authority}${path}${req.query === '' ? '' : `?${req.query}`}`;
}

/**
 * Whether this request is mirrored: `percent` (0–100) or `fraction` (numerator/denominator) of requests; neither
 * means all of them. `random` returns a number in [0, 1); it is not called when the answer is certain.
 */
export function mirrorSelected(mirror: RequestMirror, random: () => number): boolean {
  if (mirror.percent !== undefined) {
    if (mirror.percent <= 0) return false;
    return mirror.percent >= 100 || random() * 100 < mirror.percent;
  }
  if (mirror.fraction !== undefined) {
    const { numerator, denominator } = mirror.fraction;
    if (numerator <= 0) return false;
    return numerator >= denominator || random() * denominator < numerator;
  }
  return true;
}
