import type { HTTPRouteMatch } from '../../policy/schema/http-route.ts';
import { normalizePrefix, prefixMatches } from './path-prefix.ts';
import { compileFullMatch } from './regex.ts';

/** What route matching reads from a request. Built by the listener without copying node's objects. */
export interface RequestView {
  /** Upper-case, as node reports it. */
  method: string;
  /** The path without the query string, as received (not decoded or normalized here). */
  path: string;
  /** The raw query without `?`; `''` when there is none. */
  query: string;
  /** node's `IncomingHttpHeaders`: lower-case names. */
  headers: Record<string, string | string[] | undefined>;
  /** The Service port the request was addressed to, for parentRefs with a `port`. */
  port?: number;
}

export type PathMatchType = 'Exact' | 'PathPrefix' | 'RegularExpression';

/** One header or query-parameter condition, with its test compiled. */
export interface ValueMatcher {
  /** Header names are lower-cased at compile time; query parameter names are kept as written (case-sensitive). */
  readonly name: string;
  readonly type: 'Exact' | 'RegularExpression';
  readonly value: string;
  readonly test: (value: string) => boolean;
}

/** One `HTTPRouteMatch`, compiled for one Service's table. */
export interface CompiledMatch {
  readonly pathType: PathMatchType;
  /** The path value as configured (`/` when the match has no path). */
  readonly pathValue: string;
  readonly path: (path: string) => boolean;
  readonly method: string | undefined;
  readonly headers: readonly ValueMatcher[];
  readonly queryParams: readonly ValueMatcher[];
  /** Ports of the parentRefs that attach the route to this Service; undefined means every port. */
  readonly ports: ReadonlySet<number> | undefined;
}

/** A route that cannot be compiled: the config loader rejects the snapshot and reports this message. */
export class RouteCompileError extends Error {
  override readonly name = 'RouteCompileError';
}

/**
 * Compiles a match. `where` locates it for error messages, e.g. `HTTPRoute shop/catalog spec.rules[0].matches[1]`.
 * A rule without `matches`, or a match without `path`, matches PathPrefix `/`.
 */
export function compileMatch(match: HTTPRouteMatch, ports: ReadonlySet<number> | undefined, where: string): CompiledMatch {
  const pathType = match.path?.type ?? 'PathPrefix';
  const pathValue = match.path?.value ?? '/';
  return {
    pathType,
    pathValue,
    path: compilePath(pathType, pathValue, `${where}.path.value`),
    method: match.method,
    headers: compileValueMatchers(match.headers ?? [], true, `${where}.headers`),
    queryParams: compileValueMatchers(match.queryParams ?? [], false, `${where}.queryParams`),
    ports,
  };
}

function compilePath(type: PathMatchType, value: string, where: string): (path: string) => boolean {
  switch (type) {
    case 'Exact':
      return (path) => path === value;
    case 'PathPrefix': {
      const prefix = normalizePrefix(value);
      return prefix === '' ? (path) => path.charCodeAt(0) === 0x2f || path === '' : (path) => prefixMatches(path, prefix);
    }
    case 'RegularExpression': {
      const regex = compileRegex(value, where);
      return (path) => regex.test(path);
    }
  }
}

/**
 * Gateway API: when several entries name the same header (case-insensitively) or query parameter (exactly), only
 * the first counts; the rest are ignored, also when ranking precedence.
 */
function compileValueMatchers(
  entries: readonly { type: 'Exact' | 'RegularExpression'; name: string; value: string }[],
  caseInsensitiveNames: boolean,
  where: string,
): ValueMatcher[] {
  const seen = new Set<string>();
  const matchers: ValueMatcher[] = [];
  entries.forEach((entry, index) => {
    const name = caseInsensitiveNames ? entry.name.toLowerCase() : entry.name;
    if (seen.has(name)) return;
    seen.add(name);
    const { type, value } = entry;
    if (type === 'Exact') {
      matchers.push({ name, type, value, test: (actual) => actual === value });
    } else {
      const regex = compileRegex(value, `${where}[${index}].value`);
      matchers.push({ name, type, value, test: (actual) => regex.test(actual) });
    }
  });
  return matchers;
}

function compileRegex(pattern: string, where: string): RegExp {
  try {
    return compileFullMatch(pattern);
  } catch (error) {
    throw new RouteCompileError(`${where}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The header's value for matching. node already joins most repeated headers with `, `; a header it keeps as an
 * array (such as `set-cookie`) is joined with `,` as RFC 9110 §5.3 combines field lines.
 */
export function headerValue(headers: RequestView['headers'], name: string): string | undefined {
  const value = headers[name];
  if (typeof value === 'string') return value;
  return Array.isArray(value) ? value.join(',') : undefined;
}

/** Port, method, path and headers: every condition except the query, which the table parses lazily. */
export function matchesWithoutQuery(match: CompiledMatch, req: RequestView): boolean {
  if (match.ports !== undefined && (req.port === undefined || !match.ports.has(req.port))) return false;
  if (match.method !== undefined && match.method !== req.method) return false;
  if (!match.path(req.path)) return false;
  for (const header of match.headers) {
    const value = headerValue(req.headers, header.name);
    if (value === undefined || !header.test(value)) return false;
  }
  return true;
}

export function matchesQuery(match: CompiledMatch, query: ReadonlyMap<string, string>): boolean {
  for (const param of match.queryParams) {
    const value = query.get(param.name);
    if (value === undefined || !param.test(value)) return false;
  }
  return true;
}
