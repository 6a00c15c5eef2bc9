import type { Endpoint } from '../endpoints/endpoint.ts';
import type { Balancer, Random } from './balancer.ts';
import { WeightedSampler } from './weighted-sampler.ts';

/**
 * Envoy's LEAST_REQUEST with two choices: draw two distinct endpoints in proportion to weight and keep the one with
 * fewer requests in flight per unit of weight. On a tie the first draw wins, which is a random tie-break (the draws
 * are random) and keeps an idle cluster's traffic exactly proportional to weight.
 *
 * An endpoint discovery marks suspect is taken only when drawn first. As the second choice an idle one would beat
 * any busy peer (nothing in flight costs 0 whatever the weight), which under a few concurrent requests handed it a
 * quarter of the traffic instead of its reduced weight's share.
 */
export class LeastRequestBalancer implements Balancer {
  private readonly sampler: WeightedSampler;

  constructor(endpoints: readonly Endpoint[], random: Random) {
    this.sampler = new WeightedSampler(endpoints.slice(), random, true);
  }

  pick(_hashKey?: string, avoid?: ReadonlySet<Endpoint>): Endpoint | undefined {
    const first = this.sampler.sample(avoid);
    if (first === undefined) return undefined;
    const second = this.sampler.sample(avoid, first);
    if (second === undefined || second.suspect) return first;
    // second.active / second.weight < first.active / first.weight, without the division.
    return second.active * first.weight < first.active * second.weight ? second : first;
  }
}
