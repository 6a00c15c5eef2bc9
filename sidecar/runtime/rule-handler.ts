import { deadline } from '../layers/deadline.ts';
import { mirror, type MirrorTarget } from '../layers/mirror.ts';
import { redirectHandler } from '../layers/redirect.ts';
import { requestFilters } from '../layers/request-filters.ts';
import { stack, type Handler, type Outcome } from '../pipeline/context.ts';
import { mirrorSelected } from '../routing/filters.ts';
import type { BackendTarget, CompiledRule } from '../routing/route-table.ts';
import type { ServiceRuntime } from './service.ts';

export type MirrorReport = (service: string, outcome: Parameters<MirrorTarget['onSent']>[0]) => void;

/**
 * The chain for one HTTPRoute rule, outermost first:
 *   redirect (answers alone) | request filters → mirror → deadline → backend split → [service: pick endpoint → forward]
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
    backendSplit(rule, parentKey, services, matchedPrefix),
    requestFilters(rule.filters, matchedPrefix),
    mirror(mirrorTargets(rule, services, onMirror)),
    deadline(requestTimeoutMs),
  );
}

/** Straight to a Service when no route matches, with its default request timeout. */
export function buildDefaultHandler(service: ServiceRuntime): Handler {
  return stack(
    (ctx) => {
      ctx.destination = service.key;
      return service.handler(ctx);
    },
    deadline(service.settings.requestTimeoutMs),
  );
}

/**
 * Weighted choice among the rule's backendRefs, then that backend's own filters, then its Service chain.
 * A rule without backendRefs sends to its parent Service, as Linkerd and the GAMMA examples do.
 */
function backendSplit(rule: CompiledRule, parentKey: string, services: ReadonlyMap<string, ServiceRuntime>, matchedPrefix: string | undefined): Handler {
  const noBackend = (detail: string): Promise<Outcome> => Promise.resolve({ status: 500, committed: false, flag: 'NB', detail });
  if (rule.backends.all.length === 0) {
    const parent = services.get(parentKey);
    if (!parent) return () => noBackend(`Service ${parentKey} is unknown`);
    return (ctx) => {
      ctx.destination = parent.key;
      return parent.handler(ctx);
    };
  }
  const perBackend = new Map<BackendTarget, Handler>();
  for (const backend of rule.backends.all) {
    const key = `${backend.service}.${backend.namespace}`;
    const service = services.get(key);
    const toService: Handler = service
      ? (ctx) => {
          ctx.destination = key;
          return service.handler(ctx);
        }
      : () => noBackend(`backend Service ${key} is unknown`);
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
