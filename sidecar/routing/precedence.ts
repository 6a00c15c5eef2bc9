import type { CompiledMatch, PathMatchType } from './request-match.ts';
import { normalizePrefix } from './path-prefix.ts';

/** What ranks one match among all matches of all routes attached to the same Service. */
export interface PrecedenceKey {
  pathType: PathMatchType;
  /** Length of the path value; for PathPrefix after dropping trailing slashes (`/foo/` ranks as `/foo`). */
  pathLength: number;
  hasMethod: boolean;
  headerCount: number;
  queryCount: number;
  /** Route creation time in ms since the epoch; +Infinity when the route has no (valid) creationTimestamp. */
  createdAt: number;
  /** `namespace/name` of the route. */
  routeKey: string;
  ruleIndex: number;
  matchIndex: number;
}

const PATH_TYPE_RANK: Record<PathMatchType, number> = { Exact: 0, RegularExpression: 1, PathPrefix: 2 };

export function precedenceKey(
  match: CompiledMatch,
  route: { createdAt: number; routeKey: string },
  ruleIndex: number,
  matchIndex: number,
): PrecedenceKey {
  return {
    pathType: match.pathType,
    pathLength: match.pathType === 'PathPrefix' ? normalizePrefix(match.pathValue).length : match.pathValue.length,
    hasMethod: match.method !== undefined,
    headerCount: match.headers.length,
    queryCount: match.queryParams.length,
    createdAt: route.createdAt,
    routeKey: route.routeKey,
    ruleIndex,
    matchIndex,
  };
}

/** Parses `metadata.creationTimestamp`; missing or unparsable timestamps sort after every present one. */
export function creationTime(timestamp: string | undefined): number {
  if (timestamp === undefined) return Number.POSITIVE_INFINITY;
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

/**
 * Gateway API HTTPRouteRule precedence, with one documented choice for regular expressions.
 *
 * The spec ranks (1) Exact path, (2) PathPrefix with the most characters, (3) method, (4) most header matches,
 * (5) most query-param matches, then the oldest route, then `namespace/name` alphabetically, then rule order, and
 * leaves RegularExpression paths to the implementation. We rank path types Exact, then RegularExpression, then
 * PathPrefix, each with the longer value first — as Envoy Gateway does — so that a catch-all prefix `/` never
 * shadows a regex, which is almost never what the author of a regex rule meant.
 * Within one rule, matches keep their order.
 *
 * Negative when `a` takes precedence over `b`. A total order: equal only for the same route, rule and match.
 */
export function comparePrecedence(a: PrecedenceKey, b: PrecedenceKey): number {
  return (
    PATH_TYPE_RANK[a.pathType] - PATH_TYPE_RANK[b.pathType] ||
    b.pathLength - a.pathLength ||
    Number(b.hasMethod) - Number(a.hasMethod) ||
    b.headerCount - a.headerCount ||
    b.queryCount - a.queryCount ||
    compareTimes(a.createdAt, b.createdAt) ||
    compareStrings(a.routeKey, b.routeKey) ||
    a.ruleIndex - b.ruleIndex ||
    a.matchIndex - b.matchIndex
  );
}

function compareTimes(a: number, b: number): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Code-unit order, independent of locale. */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
