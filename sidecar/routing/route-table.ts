import type { HTTPRoute, HTTPRouteFilter, HTTPRouteRule } from '../../policy/schema/http-route.ts';
import { comparePrecedence, creationTime, precedenceKey } from './precedence.ts';
import type { PrecedenceKey } from './precedence.ts';
import { firstSegmentKey, normalizePrefix } from './path-prefix.ts';
import { parseQueryFirst } from './query.ts';
import { literalPrefix } from './regex.ts';
import { compileMatch, matchesQuery, matchesWithoutQuery, RouteCompileError } from './request-match.ts';
import type { CompiledMatch, PathMatchType, RequestView } from './request-match.ts';
import { serviceKey } from './service-key.ts';
import { weightedBackends } from './weighted-backends.ts';
import type { BackendTarget, WeightedBackends } from './weighted-backends.ts';

export type { CompiledMatch, RequestView, ValueMatcher } from './request-match.ts';
export type { BackendTarget, WeightedBackends } from './weighted-backends.ts';
export { RouteCompileError } from './request-match.ts';

/** One match of one rule, compiled for one Service: what the proxy needs once a request matched it. */
export interface CompiledRule {
  route: { namespace: string; name: string };
  ruleIndex: number;
  ruleName?: string;
  matchIndex: number;
  match: CompiledMatch;
  filters: HTTPRouteFilter[];
  backends: WeightedBackends;
  /** Milliseconds; Gateway API: 0 disables the timeout. */
  timeouts: { requestMs?: number; backendRequestMs?: number };
  retry?: HTTPRouteRule['retry'];
  /** The path condition that matched, as configured; the filters need the prefix for ReplacePrefixMatch. */
  pathMatch: { type: PathMatchType; value: string };
}

const NO_RULES: readonly CompiledRule[] = [];

/**
 * The routes attached to one Service, in precedence order (see precedence.ts).
 *
 * `match` returns the first rule, in that order, that matches the request. To try fewer rules it uses two indexes
 * built here, neither of which changes the answer:
 * - Exact-path rules rank before all others, so they are looked up by the request path and tried first.
 * - A PathPrefix rule other than `/` can only match paths whose first element equals its prefix's first element
 *   (likewise a regex with a literal start such as `/api/…`), so the other rules are grouped by that element (see
 *   firstSegmentKey); each group also holds, in order, the rules that can match any first element (`/`, other
 *   regexes). The request's group is scanned in order.
 * The query string is parsed at most once per request, and only when a rule with query matches is reached.
 */
export class RouteTable {
  /** Every compiled rule, in precedence order. */
  readonly rules: readonly CompiledRule[];
  private readonly exactByPath = new Map<string, CompiledRule[]>();
  private readonly anyFirstSegment: CompiledRule[] = [];
  private readonly byFirstSegment = new Map<number, CompiledRule[]>();
  private readonly queryNames = new Set<string>();
  private readonly allPorts: boolean;
  private readonly ports = new Set<number>();

  /** `rules` must already be in precedence order, as compileRouteTables produces them. */
  constructor(rules: readonly CompiledRule[], attachments: readonly (ReadonlySet<number> | undefined)[]) {
    this.rules = rules;
    for (const rule of rules) {
      const { match } = rule;
      for (const param of match.queryParams) this.queryNames.add(param.name);
      if (match.pathType === 'Exact') {
        const list = this.exactByPath.get(match.pathValue);
        if (list === undefined) this.exactByPath.set(match.pathValue, [rule]);
        else list.push(rule);
        continue;
      }
      const key = firstSegmentIndexKey(match);
      if (key !== undefined) {
        // Rules are visited in order, so a new group starts with every any-element rule seen so far.
        const group = this.byFirstSegment.get(key) ?? [...this.anyFirstSegment];
        this.byFirstSegment.set(key, group);
        group.push(rule);
      } else {
        this.anyFirstSegment.push(rule);
        for (const group of this.byFirstSegment.values()) group.push(rule);
      }
    }
    this.allPorts = attachments.some((ports) => ports === undefined);
    for (const ports of attachments) if (ports !== undefined) for (const port of ports) this.ports.add(port);
  }

  /**
   * Whether any route attached to this Service applies to requests on `port` (GAMMA: a parentRef with a port only
   * attaches to that port). When false, the request is not subject to routes and goes to the Service as addressed;
   * when true and `match` returns undefined, the answer is 404.
   */
  appliesTo(port: number | undefined): boolean {
    return this.allPorts || (port !== undefined && this.ports.has(port));
  }

  match(req: RequestView): CompiledRule | undefined {
    let query: Map<string, string> | undefined;
    const exact = this.exactByPath.get(req.path);
    for (let phase = exact === undefined ? 1 : 0; phase < 2; phase++) {
      const candidates =
        phase === 0 ? (exact ?? NO_RULES) : (this.byFirstSegment.get(firstSegmentKey(req.path)) ?? this.anyFirstSegment);
      for (const rule of candidates) {
        const { match } = rule;
        if (!matchesWithoutQuery(match, req)) continue;
        if (match.queryParams.length > 0) {
          query ??= parseQueryFirst(req.query, this.queryNames);
          if (!matchesQuery(match, query)) continue;
        }
        return rule;
      }
    }
    return undefined;
  }
}

/**
 * The first-element key of every path a non-Exact match can match, or undefined when it can match any first element:
 * a PathPrefix other than `/`, or a regex whose literal start covers a whole first element (`/api/v[0-9]+` does,
 * `/ap[iy]/.*` does not).
 */
function firstSegmentIndexKey(match: CompiledMatch): number | undefined {
  if (match.pathType === 'PathPrefix') {
    const prefix = normalizePrefix(match.pathValue);
    return prefix.startsWith('/') ? firstSegmentKey(prefix) : undefined;
  }
  const literal = literalPrefix(match.pathValue);
  const secondSlash = literal.indexOf('/', 1);
  return literal.startsWith('/') && secondSlash > 0 ? firstSegmentKey(literal.slice(0, secondSlash)) : undefined;
}

interface Candidate {
  rule: CompiledRule;
  key: PrecedenceKey;
}

/**
 * Compiles HTTPRoutes into one RouteTable per Service they attach to, keyed by `serviceKey(namespace, name)`.
 * Called when config loads; regular expressions are compiled here, once per route.
 *
 * - Attachment is by `spec.parentRefs` of kind Service; a parentRef's `namespace` defaults to the route's. A
 *   parentRef with a `port` attaches the route to that port only; several parentRefs to the same Service combine,
 *   and one without a port attaches to every port. `sectionName` is not resolved (Service port names are not known
 *   here), so it does not narrow the attachment.
 * - `spec.hostnames` is ignored: GAMMA says hostnames do not apply to routes whose parents are Services.
 * - A Service with no entry in the map has no routes. A Service with a table has routes; see RouteTable.appliesTo.
 *
 * Throws RouteCompileError for a route that cannot be served as written: an invalid or unsafe regular expression,
 * RequestRedirect and URLRewrite in one filter list, or ReplacePrefixMatch on a rule with a non-PathPrefix match
 * (Gateway API makes such routes not Accepted). The loader rejects the snapshot and keeps the last good one.
 */
export function compileRouteTables(routes: readonly { resource: HTTPRoute }[]): Map<string, RouteTable> {
  const candidates = new Map<string, Candidate[]>();
  const attachments = new Map<string, (ReadonlySet<number> | undefined)[]>();

  for (const { resource } of routes) {
    const { namespace, name } = resource.metadata;
    const route = { namespace, name };
    const order = { createdAt: creationTime(resource.metadata.creationTimestamp), routeKey: `${namespace}/${name}` };
    const parents = parentPorts(resource);
    const rules = resource.spec.rules.map((rule, ruleIndex) => {
      const where = `HTTPRoute ${order.routeKey} spec.rules[${ruleIndex}]`;
      checkFilters(rule, where);
      return {
        rule,
        ruleIndex,
        backends: weightedBackends((rule.backendRefs ?? []).map((ref) => backendTarget(ref, namespace))),
        timeouts: timeouts(rule),
        // Compiling once with every port validates the regexes and gives the compiled tests to share.
        matches: (rule.matches ?? [{}]).map((m, matchIndex) => compileMatch(m, undefined, `${where}.matches[${matchIndex}]`)),
      };
    });

    for (const [key, ports] of parents) {
      const list = candidates.get(key) ?? [];
      candidates.set(key, list);
      const attached = attachments.get(key) ?? [];
      attachments.set(key, attached);
      attached.push(ports);
      for (const { rule, ruleIndex, backends, timeouts: ruleTimeouts, matches } of rules) {
        matches.forEach((shared, matchIndex) => {
          const match: CompiledMatch = { ...shared, ports };
          const compiled: CompiledRule = {
            route,
            ruleIndex,
            matchIndex,
            match,
            filters: rule.filters ?? [],
            backends,
            timeouts: ruleTimeouts,
            pathMatch: { type: match.pathType, value: match.pathValue },
          };
          if (rule.name !== undefined) compiled.ruleName = rule.name;
          if (rule.retry !== undefined) compiled.retry = rule.retry;
          list.push({ rule: compiled, key: precedenceKey(match, order, ruleIndex, matchIndex) });
        });
      }
    }
  }

  const tables = new Map<string, RouteTable>();
  for (const [key, list] of candidates) {
    list.sort((a, b) => comparePrecedence(a.key, b.key));
    tables.set(
      key,
      new RouteTable(
        list.map((candidate) => candidate.rule),
        attachments.get(key) ?? [],
      ),
    );
  }
  return tables;
}

/** Service key → ports the route attaches to there (undefined: every port). */
function parentPorts(route: HTTPRoute): Map<string, Set<number> | undefined> {
  const parents = new Map<string, Set<number> | undefined>();
  for (const ref of route.spec.parentRefs) {
    const key = serviceKey(ref.namespace ?? route.metadata.namespace, ref.name);
    const existing = parents.get(key);
    if (ref.port === undefined) parents.set(key, undefined);
    else if (!parents.has(key)) parents.set(key, new Set([ref.port]));
    else existing?.add(ref.port);
  }
  return parents;
}

function backendTarget(ref: NonNullable<HTTPRouteRule['backendRefs']>[number], routeNamespace: string): BackendTarget {
  const target: BackendTarget = {
    service: ref.name,
    namespace: ref.namespace ?? routeNamespace,
    weight: ref.weight,
    filters: ref.filters ?? [],
  };
  if (ref.port !== undefined) target.port = ref.port;
  return target;
}

function timeouts(rule: HTTPRouteRule): CompiledRule['timeouts'] {
  const result: CompiledRule['timeouts'] = {};
  if (rule.timeouts?.request !== undefined) result.requestMs = rule.timeouts.request;
  if (rule.timeouts?.backendRequest !== undefined) result.backendRequestMs = rule.timeouts.backendRequest;
  return result;
}

/** The filter combinations Gateway API says make a route not Accepted. */
function checkFilters(rule: HTTPRouteRule, where: string): void {
  const lists: [string, HTTPRouteFilter[]][] = [[`${where}.filters`, rule.filters ?? []]];
  (rule.backendRefs ?? []).forEach((ref, i) => lists.push([`${where}.backendRefs[${i}].filters`, ref.filters ?? []]));
  const prefixOnly = (rule.matches ?? [{}]).every((m) => (m.path?.type ?? 'PathPrefix') === 'PathPrefix');
  for (const [path, filters] of lists) {
    const types = new Set(filters.map((filter) => filter.type));
    if (types.has('RequestRedirect') && types.has('URLRewrite')) {
      throw new RouteCompileError(`${path}: RequestRedirect and URLRewrite cannot be used together`);
    }
    const usesPrefixRewrite = filters.some((filter) => {
      const modifier = filter.type === 'URLRewrite' ? filter.urlRewrite.path : filter.type === 'RequestRedirect' ? filter.requestRedirect.path : undefined;
      return modifier?.type === 'ReplacePrefixMatch';
    });
    if (usesPrefixRewrite && !prefixOnly) {
      throw new RouteCompileError(`${path}: ReplacePrefixMatch needs every match of the rule to be a PathPrefix match`);
    }
  }
}
