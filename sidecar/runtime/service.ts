import type { IncomingMessage } from 'node:http';
import type { LoadBalancerSpec, TrafficPolicy } from '../../policy/schema/traffic-policy.ts';
import { createBalancer, type Balancer } from '../balancers/balancer.ts';
import { hashKeyFor } from '../balancers/hash-key.ts';
import { Endpoint, type EndpointOrigin } from '../endpoints/endpoint.ts';
import { ConcurrencyLimiter, concurrencyLimit, poolSizePerEndpoint } from '../layers/circuit/concurrency-limit.ts';
import { ErrorRateBreaker, circuitBreaker } from '../layers/circuit/error-rate-breaker.ts';
import { resolveConcurrencyLimits, resolveErrorRate, sameErrorRate } from '../layers/circuit/resolve.ts';
import { OutlierDetector } from '../layers/outlier/outlier-detector.ts';
import { outlierObserver } from '../layers/outlier/observer-layer.ts';
import { resolveOutlierDetection } from '../layers/outlier/resolve.ts';
import { pickEndpoint } from '../layers/pick-endpoint.ts';
import { RetryBudget } from '../layers/retry/budget.ts';
import { resolveRetryPolicy } from '../layers/retry/policy.ts';
import { createRateLimit, resolveRateLimits, type RateLimitRuntime } from '../layers/rate-limit/rate-limit-runtime.ts';
import type { Logger } from '../log.ts';
import { stack, type Handler } from '../pipeline/context.ts';
import { forwardTo, type AttemptTarget } from '../upstream/forward.ts';
import type { UpstreamPools } from '../upstream/pools.ts';

export interface ServiceSettings {
  loadBalancer: LoadBalancerSpec;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** Upper bound of keep-alive connections per endpoint (Mesh `upstream.maxConnectionsPerEndpoint`). */
  connectionsPerEndpoint: number;
  /** Default whole-request timeout for routes that set none; 0 = none. */
  requestTimeoutMs: number;
  /** Stream idle timeouts (Envoy: 5 min). */
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** The Service's TrafficPolicy spec, for the resilience layers. */
  policy: TrafficPolicy['spec'] | undefined;
}

export interface EndpointInput {
  address: string;
  /** The weight the balancers use: for a suspect endpoint, already reduced (see merge-endpoints.ts). */
  weight: number;
  zone?: string | undefined;
  origin?: EndpointOrigin | undefined;
  suspect?: boolean | undefined;
}

/** A destination Service as one config generation sees it: endpoints, balancer, pools, resilience state, chain. */
export interface ServiceRuntime {
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly endpoints: readonly Endpoint[];
  readonly balancer: Balancer;
  readonly settings: ServiceSettings;
  /** circuit breaker → concurrency limit → pick endpoint → outlier observer → forward. Retries wrap it per route. */
  readonly handler: Handler;
  readonly poolKeys: readonly string[];
  readonly limiter: ConcurrencyLimiter;
  readonly breaker: ErrorRateBreaker | undefined;
  readonly detector: OutlierDetector | undefined;
  /** Shared by every route to this Service, so retries are bounded per upstream, not per route. */
  readonly retryBudget: RetryBudget;
  /** Rate limits this sidecar enforces for the Service: on calls to it (outbound) or, for the local app, on traffic it receives. */
  readonly rateLimit: RateLimitRuntime | undefined;
  dispatcherFor(endpoint: Endpoint): AttemptTarget['pool'] | undefined;
}

/**
 * Builds a Service's runtime. State that must survive a reload is carried over from the previous generation:
 * endpoints by address (in-flight counts, latency estimates, ejections; a new weight, zone or suspect state is taken
 * in place), the concurrency limiter (requests in flight), the breaker and the retry budget when their settings did
 * not change. `endpointInputs` must hold each address once.
 */
export function buildService(
  name: string,
  namespace: string,
  endpointInputs: readonly EndpointInput[],
  settings: ServiceSettings,
  pools: UpstreamPools,
  previous: ServiceRuntime | undefined,
  log: Logger,
  direction: 'inbound' | 'outbound' = 'outbound',
): ServiceRuntime {
  const key = `${name}.${namespace}`;
  const policy = settings.policy;
  const peakEwma = settings.loadBalancer.peakEWMA;
  const carried = new Map(previous?.endpoints.map((e) => [e.address, e]));
  const endpoints = endpointInputs.map((input) => {
    const old = carried.get(input.address);
    if (!old) return new Endpoint({ ...input, ...(peakEwma ? { defaultRttMs: peakEwma.defaultRTT, decayMs: peakEwma.decay } : {}) });
    old.update(input);
    return old;
  });

  const limits = resolveConcurrencyLimits(policy?.circuitBreaker);
  const limiter = previous?.limiter ?? new ConcurrencyLimiter(key, limits);
  limiter.update(limits);
  const errorRate = resolveErrorRate(policy?.circuitBreaker);
  const breaker =
    previous?.breaker && sameErrorRate(previous.breaker.options, errorRate) ? previous.breaker : errorRate ? new ErrorRateBreaker(key, errorRate, log) : undefined;
  const outlier = resolveOutlierDetection(policy?.healthCheck?.passive);
  const detector = outlier ? new OutlierDetector({ service: key, endpoints, options: outlier, logger: log, previous: previous?.detector }) : undefined;
  const budgetConfig = resolveRetryPolicy(policy?.retry).budget;
  const retryBudget =
    previous && JSON.stringify(resolveRetryPolicy(previous.settings.policy?.retry).budget) === JSON.stringify(budgetConfig) ? previous.retryBudget : new RetryBudget(budgetConfig);

  const limitsHere = resolveRateLimits(policy?.rateLimit, direction);
  const rateLimit = limitsHere ? createRateLimit(limitsHere, { name, namespace }, { logger: log, previous: previous?.rateLimit }) : undefined;

  const connectionsPerEndpoint = poolSizePerEndpoint(limits.maxConnections, Math.max(1, endpoints.length), settings.connectionsPerEndpoint);
  const targets = new Map<Endpoint, AttemptTarget>();
  const poolKeys: string[] = [];
  for (const endpoint of endpoints) {
    const { pool, key: poolKey, trailerCapable } = pools.get(endpoint.address, {
      connectionsPerEndpoint,
      idleTimeoutMs: settings.idleTimeoutMs,
      connectTimeoutMs: settings.connectTimeoutMs,
    });
    poolKeys.push(poolKey);
    targets.set(endpoint, { pool, trailerCapable, headersTimeoutMs: settings.headersTimeoutMs, bodyTimeoutMs: settings.bodyTimeoutMs });
  }
  const balancer = createBalancer(settings.loadBalancer, endpoints);
  const lb = settings.loadBalancer;
  const hashKey = lb.type === 'ConsistentHash' && lb.consistentHash ? (req: IncomingMessage) => hashKeyFor(lb, req.headers, req.socket.remoteAddress) : undefined;
  const forward = forwardTo((ctx) => targets.get(ctx.endpoint as Endpoint) as AttemptTarget);
  const handler = stack(forward, circuitBreaker(breaker), concurrencyLimit(limiter), pickEndpoint(balancer, endpoints, key, hashKey), outlierObserver(detector));
  return {
    key,
    name,
    namespace,
    endpoints,
    balancer,
    settings,
    handler,
    poolKeys,
    limiter,
    breaker,
    detector,
    retryBudget,
    rateLimit,
    dispatcherFor: (endpoint) => targets.get(endpoint)?.pool,
  };
}

/**
 * True when `service` already has exactly these endpoints, in this order, described the same way: with unchanged
 * settings it can then be reused as it is, balancer state included.
 */
export function sameEndpoints(service: ServiceRuntime, inputs: readonly EndpointInput[]): boolean {
  if (service.endpoints.length !== inputs.length) return false;
  return inputs.every((input, i) => {
    const e = service.endpoints[i]!;
    return e.address === input.address && e.weight === input.weight && e.zone === input.zone && e.origin === (input.origin ?? 'static') && e.suspect === (input.suspect ?? false);
  });
}

/** Releases what a replaced generation held and the new one did not take over (timers, breakers). */
export function retireService(old: ServiceRuntime, replacement: ServiceRuntime | undefined): void {
  if (old.detector && old.detector !== replacement?.detector) old.detector.close();
  if (old.breaker && old.breaker !== replacement?.breaker) old.breaker.shutdown();
  if (old.rateLimit && old.rateLimit !== replacement?.rateLimit) void old.rateLimit.close();
}
