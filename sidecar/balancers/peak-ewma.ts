import type { Endpoint } from '../endpoints/endpoint.ts';
import type { Balancer, Clock, Random } from './balancer.ts';
import { WeightedSampler } from './weighted-sampler.ts';

/**
 * Linkerd's balancer: two distinct random choices, the lower peak-EWMA cost wins (first draw on a tie).
 * Choices are drawn uniformly, as Linkerd does: the cost is already per unit of weight, and drawing by weight too
 * would count weight twice.
 */
export class PeakEwmaBalancer implements Balancer {
  private readonly sampler: WeightedSampler;
  private readonly now: Clock;

  constructor(endpoints: readonly Endpoint[], random: Random, now: Clock) {
    this.sampler = new WeightedSampler(endpoints.slice(), random, false);
    this.now = now;
  }

  pick(_hashKey?: string, avoid?: ReadonlySet<Endpoint>): Endpoint | undefined {
    const first = this.sampler.sample(avoid);
    if (first === undefined) return undefined;
    const second = this.sampler.sample(avoid, first);
    if (second === undefined) return first;
    const now = this.now();
    return second.peakEwmaCost(now) < first.peakEwmaCost(now) ? second : first;
  }
}
