import type { IncomingMessage } from 'node:http';
import type { LoadBalancerSpec } from '../../policy/schema/traffic-policy.ts';
import { createBalancer, type Balancer } from '../balancers/balancer.ts';
import { hashKeyFor } from '../balancers/hash-key.ts';
import { Endpoint } from '../endpoints/endpoint.ts';
import { pickEndpoint } from '../layers/pick-endpoint.ts';
import { stack, type Handler } from '../pipeline/context.ts';
import { forwardTo, type AttemptTarget } from '../upstream/forward.ts';
import type { UpstreamPools } from '../upstream/pools.ts';

export interface ServiceSettings {
  loadBalancer: LoadBalancerSpec;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  connectionsPerEndpoint: number;
  /** Default whole-request timeout for routes that set none; 0 = none. */
  requestTimeoutMs: number;
  /** Stream idle timeouts (Envoy: 5 min). */
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

export interface EndpointInput {
  address: string;
  weight: number;
  zone?: string | undefined;
}

/** A destination Service as one config generation sees it: its endpoints, balancer, pools and chain. */
export interface ServiceRuntime {
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly endpoints: readonly Endpoint[];
  readonly balancer: Balancer;
  readonly settings: ServiceSettings;
  /** Picks an endpoint and forwards: the innermost part of every chain to this Service. */
  readonly handler: Handler;
  readonly poolKeys: readonly string[];
  dispatcherFor(endpoint: Endpoint): AttemptTarget['pool'] | undefined;
}

/**
 * Builds a Service's runtime. Endpoints carried over from the previous generation keep their in-flight counts and
 * latency estimates, so a reload neither resets the balancer's view nor double-counts requests in flight.
 */
export function buildService(
  name: string,
  namespace: string,
  endpointInputs: readonly EndpointInput[],
  settings: ServiceSettings,
  pools: UpstreamPools,
  previous: ServiceRuntime | undefined,
): ServiceRuntime {
  const key = `${name}.${namespace}`;
  const peakEwma = settings.loadBalancer.peakEWMA;
  const endpoints = endpointInputs.map((input) => {
    const old = previous?.endpoints.find((e) => e.address === input.address && e.weight === input.weight && e.zone === input.zone);
    return old ?? new Endpoint({ ...input, ...(peakEwma ? { defaultRttMs: peakEwma.defaultRTT, decayMs: peakEwma.decay } : {}) });
  });
  const targets = new Map<Endpoint, AttemptTarget>();
  const poolKeys: string[] = [];
  for (const endpoint of endpoints) {
    const { pool, key: poolKey } = pools.get(endpoint.address, {
      connectionsPerEndpoint: settings.connectionsPerEndpoint,
      idleTimeoutMs: settings.idleTimeoutMs,
      connectTimeoutMs: settings.connectTimeoutMs,
    });
    poolKeys.push(poolKey);
    targets.set(endpoint, { pool, headersTimeoutMs: settings.headersTimeoutMs, bodyTimeoutMs: settings.bodyTimeoutMs });
  }
  const balancer = createBalancer(settings.loadBalancer, endpoints);
  const lb = settings.loadBalancer;
  const hashKey =
    lb.type === 'ConsistentHash' && lb.consistentHash
      ? (req: IncomingMessage) => hashKeyFor(lb, req.headers, req.socket.remoteAddress)
      : undefined;
  const forward = forwardTo((ctx) => targets.get(ctx.endpoint as Endpoint) as AttemptTarget);
  const handler = stack(forward, pickEndpoint(balancer, key, hashKey));
  return {
    key,
    name,
    namespace,
    endpoints,
    balancer,
    settings,
    handler,
    poolKeys,
    dispatcherFor: (endpoint) => targets.get(endpoint)?.pool,
  };
}
