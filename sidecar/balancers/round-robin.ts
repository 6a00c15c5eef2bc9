import type { Endpoint } from '../endpoints/endpoint.ts';
import type { Balancer, Random } from './balancer.ts';

/** Bounds the build-time work spent on a random start: steps × endpoints. */
const START_WORK = 65_536;

/**
 * nginx's smooth weighted round robin: each pick adds every eligible endpoint's weight to its running score, takes
 * the highest score and subtracts the eligible total from it. Weights 5:1:1 give a,a,b,a,c,a,a rather than a burst of
 * five. With equal weights that reduces to plain rotation, done with a cursor in O(1).
 *
 * Every balancer starts at a random point of the cycle, as Envoy's does, so that sidecars rebuilding at the same
 * moment do not all send their next request to the same endpoint.
 */
export class RoundRobinBalancer implements Balancer {
  private readonly endpoints: readonly Endpoint[];
  private readonly scores: Float64Array;
  private readonly equalWeights: boolean;
  private cursor = 0;

  constructor(endpoints: readonly Endpoint[], random: Random) {
    this.endpoints = endpoints.slice();
    const n = this.endpoints.length;
    this.scores = new Float64Array(n);
    this.equalWeights = this.endpoints.every((e) => e.weight === endpoints[0]?.weight);
    if (n === 0) return;
    if (this.equalWeights) {
      this.cursor = Math.min(n - 1, Math.floor(random() * n));
      return;
    }
    // The smooth sequence repeats every `total` picks, so a random number of steps below that is a random start.
    const total = this.endpoints.reduce((sum, e) => sum + e.weight, 0);
    const steps = Math.floor(random() * Math.min(total, Math.ceil(START_WORK / n)));
    for (let i = 0; i < steps; i++) this.pickSmooth(undefined);
  }

  pick(_hashKey?: string, avoid?: ReadonlySet<Endpoint>): Endpoint | undefined {
    if (this.equalWeights) {
      const e = this.pickInTurn(avoid);
      return e !== undefined || avoid === undefined ? e : this.pickInTurn(undefined);
    }
    const e = this.pickSmooth(avoid);
    return e !== undefined || avoid === undefined ? e : this.pickSmooth(undefined);
  }

  private pickInTurn(avoid: ReadonlySet<Endpoint> | undefined): Endpoint | undefined {
    const n = this.endpoints.length;
    let index = this.cursor;
    for (let tried = 0; tried < n; tried++) {
      const e = this.endpoints[index]!;
      index = index + 1 === n ? 0 : index + 1;
      if (e.healthy && (avoid === undefined || !avoid.has(e))) {
        this.cursor = index;
        return e;
      }
    }
    return undefined;
  }

  private pickSmooth(avoid: ReadonlySet<Endpoint> | undefined): Endpoint | undefined {
    const endpoints = this.endpoints;
    const scores = this.scores;
    let best = -1;
    let total = 0;
    for (let i = 0; i < endpoints.length; i++) {
      const e = endpoints[i]!;
      if (!e.healthy || (avoid !== undefined && avoid.has(e))) continue;
      scores[i]! += e.weight;
      total += e.weight;
      if (best < 0 || scores[i]! > scores[best]!) best = i;
    }
    if (best < 0) return undefined;
    scores[best]! -= total;
    return endpoints[best];
  }
}
