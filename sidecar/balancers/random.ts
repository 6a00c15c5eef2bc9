import type { Endpoint } from '../endpoints/endpoint.ts';
import type { Balancer, Random } from './balancer.ts';
import { WeightedSampler } from './weighted-sampler.ts';

/** Weighted random: each pick independent, in proportion to weight among the eligible endpoints. */
export class RandomBalancer implements Balancer {
  private readonly sampler: WeightedSampler;

  constructor(endpoints: readonly Endpoint[], random: Random) {
    this.sampler = new WeightedSampler(endpoints.slice(), random, true);
  }

  pick(_hashKey?: string, avoid?: ReadonlySet<Endpoint>): Endpoint | undefined {
    return this.sampler.sample(avoid);
  }
}
