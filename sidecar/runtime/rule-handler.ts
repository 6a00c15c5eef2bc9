import { deadline } from '../layers/deadline.ts';
import { mirror, type MirrorTarget } from '../layers/mirror.ts';
import { redirectHandler } from '../layers/redirect.ts';
import { requestFilters } from '../layers/request-filters.ts';
import { fallback } from '../layers/fallback/fallback.ts';
import { faultInjection } from '../layers/fault/fault-injection.ts';
import { resolveRetryPolicy, type RouteRetry } from '../layers/retry/policy.ts';
import { retryLayer, type RetryInfo } from '../layers/retry/retry-layer.ts';
import { stack, type Handler, type Outcome, type RequestContext } from '../pipeline/context.ts';
import { mirrorSelected } from '../routing/filters.ts';
import type { BackendTarget, CompiledRule } from '../routing/route-table.ts';
import type { ServiceRuntime } from './service.ts';

export type MirrorReport = (service: string, outcome: Parameters<MirrorTarget['onSent']>[0]) => void;

/**
 * The chain for one HTTPRoute rule, outermost first:
 *   redirect (answers alone)
 *   | rate limit (of the Service addressed) → request filters → mirror → deadline → backend split
 *     → [per backend: backend filters → fault → fallback → retry → [Service: circuit → limit → pick → outlier → forward]]
 */
export function buildRuleHandler(
  rule: CompiledRule,
  parentKey: string,
  services: ReadonlyMap<string, ServiceRuntime>,
  onMirror: MirrorReport | undefined,
): Handler {
  const matchedPrefix = rule.pathMatch.type === 'PathPrefix' ? rule.pathMatch.value : undefined;
  const redirect = rule.filters.find((f) => f.type === 'RequestRedirect');
  if (redirect) return redirectHandler(redirect.requestRedirect, matchedPrefix);

  const parent = services.get(parentKey);
  const requestTimeoutMs = rule.timeouts.requestMs ?? parent?.settings.requestTimeoutMs;
  return stack(
    backendSplit(rule, parentKey, services, matchedPrefix, rule.retry, rule.timeouts.backendRequestMs),
    parent?.rateLimit?.layer,
    requestFilters(rule.filters, matchedPrefix),
    mirror(mirrorTargets(rule, services, onMirror)),
    deadline(requestTimeoutMs),
  );
}

/** Straight to a Service when no route matches, with its default request timeout and resilience policy. */
export function buildDefaultHandler(service: ServiceRuntime, services: ReadonlyMap<string, ServiceRuntime>): Handler {
  return stack(serviceEntry(service, services, undefined, undefined), service.rateLimit?.layer, deadline(service.settings.requestTimeoutMs));
}

/**
 * What every request to a Service goes through once its destination is chosen: fault injection, the fallback
 * (outside retries, so it answers only when retries could not help), then retries with the route's overrides
 * around the Service's own chain, each attempt re-picking an endpoint.
 */
export function serviceEntry(
  service: ServiceRuntime,
  services: ReadonlyMap<string, ServiceRuntime>,
  routeRetry: RouteRetry | undefined,
  backendRequestMs: number | undefined,
): Handler {
  const policy = service.settings.policy;
  const toService: Handler = (ctx) => {
    ctx.destination = service.key;
    return service.handler(ctx);
  };
  const fallbackSpec = policy?.fallback;
  let fallbackService: Handler | undefined;
  if (fallbackSpec && 'backendRef' in fallbackSpec) {
    const other = services.get(`${fallbackSpec.backendRef.name}.${fallbackSpec.backendRef.namespace ?? service.namespace}`);
    if (other && other !== service) fallbackService = stack((ctx) => ((ctx.destination = other.key), other.handler(ctx)), retryFor(other, undefined, undefined));
  }
  return stack(toService, faultInjection(policy?.faultInjection), fallback(fallbackSpec, fallbackService), retryFor(service, routeRetry, backendRequestMs));
}

function retryFor(service: ServiceRuntime, routeRetry: RouteRetry | undefined, backendRequestMs: number | undefined) {
  const policy = resolveRetryPolicy(service.settings.policy?.retry, routeRetry);
  return retryLayer(backendRequestMs !== undefined ? { ...policy, perTryTimeoutMs: backendRequestMs } : policy, service.retryBudget, { onRetry: traceRetry });
}

function traceRetry(ctx: RequestContext, info: RetryInfo): void {
  ctx.trace?.event('retry', { 'outrigger.retry.attempt': info.attempt, 'outrigger.retry.reason': String(info.reason), 'outrigger.retry.wait_ms': Math.round(info.waitMs) });
}

/**
 * Weighted choice among the rule's backendRefs, then that backend's own filters, then its Service chain.
 * A rule without backendRefs sends to its parent Service, as Linkerd and the GAMMA examples do.
 */
function backendSplit(
  rule: CompiledRule,
  parentKey: string,
  services: ReadonlyMap<string, ServiceRuntime>,
  matchedPrefix: string | undefined,
  routeRetry: RouteRetry | undefined,
  backendRequestMs: number | undefined,
): Handler {
  const noBackend = (detail: string): Promise<Outcome> => Promise.resolve({ status: 500, committed: false, flag: 'NB', detail });
  if (rule.backends.all.length === 0) {
    const parent = services.get(parentKey);
    if (!parent) return () => noBackend(`Service ${parentKey} is unknown`);
    return serviceEntry(parent, services, routeRetry, backendRequestMs);
  }
  const perBackend = new Map<BackendTarget, Handler>();
  for (const backend of rule.backends.all) {
    const key = `${backend.service}.${backend.namespace}`;
    const service = services.get(key);
    const toService: Handler = service ? serviceEntry(service, services, routeRetry, backendRequestMs) : () => noBackend(`backend Service ${key} is unknown`);
    perBackend.set(backend, stack(toService, requestFilters(backend.filters, matchedPrefix)));
  }
  return (ctx) => {
    const backend = rule.backends.pick(Math.random);
    if (!backend) return noBackend('every backendRef has weight 0');
    return (perBackend.get(backend) as Handler)(ctx);
  };
}

function mirrorTargets(rule: CompiledRule, services: ReadonlyMap<string, ServiceRuntime>, onMirror: MirrorReport | undefined): MirrorTarget[] {
  const targets: MirrorTarget[] = [];
  for (const filter of rule.filters) {
    if (filter.type !== 'RequestMirror') continue;
    const spec = filter.requestMirror;
    const ref = spec.backendRef;
    const key = `${ref.name}.${ref.namespace ?? rule.route.namespace}`;
    const service = services.get(key);
    targets.push({
      selected: () => mirrorSelected(spec, Math.random),
      dispatcher: () => {
        if (!service) return undefined;
        const endpoint = service.balancer.pick();
        return endpoint ? service.dispatcherFor(endpoint) : undefined;
      },
      onSent: (outcome) => onMirror?.(key, outcome),
    });
  }
  return targets;
}
