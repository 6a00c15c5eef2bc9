import type { LoadBalancerSpec } from '../../policy/schema/traffic-policy.ts';
import type { Endpoint } from '../endpoints/endpoint.ts';
import { LeastRequestBalancer } from './least-request.ts';
import { MaglevBalancer } from './maglev.ts';
import { PeakEwmaBalancer } from './peak-ewma.ts';
import { RandomBalancer } from './random.ts';
import { RoundRobinBalancer } from './round-robin.ts';

export interface Balancer {
  /**
   * Picks an endpoint among the healthy ones; `hashKey` is used by ConsistentHash only; `avoid` are endpoints to skip
   * if any other is available (for retries). Returns undefined when there is no healthy endpoint.
   */
  pick(hashKey?: string, avoid?: ReadonlySet<Endpoint>): Endpoint | undefined;
}

/** Uniform in [0, 1). */
export type Random = () => number;
/** Milliseconds on the clock fed to `Endpoint.observeLatency` (`performance.now()`). */
export type Clock = () => number;

/**
 * Least request with two choices: O(1), adapts to slow endpoints through their in-flight counts without latency
 * bookkeeping, and is Istio's default.
 */
export const DEFAULT_LOAD_BALANCER: LoadBalancerSpec = { type: 'LeastRequest' };

const DEFAULT_MAGLEV_TABLE_SIZE = 65537;

/** Builds a balancer over one endpoint set; rebuild it when the set changes (health flips need no rebuild). */
export function createBalancer(
  spec: LoadBalancerSpec,
  endpoints: readonly Endpoint[],
  random: Random = Math.random,
  now: Clock = () => performance.now(),
): Balancer {
  for (const e of endpoints) {
    if (!(e.weight > 0) || !Number.isFinite(e.weight)) throw new RangeError(`endpoint ${e.address} has weight ${e.weight}; weights must be positive`);
  }
  switch (spec.type) {
    case 'RoundRobin':
      return new RoundRobinBalancer(endpoints, random);
    case 'Random':
      return new RandomBalancer(endpoints, random);
    case 'LeastRequest':
      return new LeastRequestBalancer(endpoints, random);
    case 'PeakEWMA':
      return new PeakEwmaBalancer(endpoints, random, now);
    case 'ConsistentHash':
      return new MaglevBalancer(endpoints, spec.consistentHash?.tableSize ?? DEFAULT_MAGLEV_TABLE_SIZE, random);
  }
}
