import type { Endpoint } from '../endpoints/endpoint.ts';
import type { Random } from './balancer.ts';

/** Redraws before falling back to the exact scan; the chance of needing the scan is (ineligible share)^DRAWS. */
const DRAWS = 4;

/**
 * Draws endpoints at random, in proportion to weight or uniformly, among the eligible ones: healthy and not in
 * `avoid`, or merely healthy when every healthy endpoint is to be avoided.
 *
 * The common case is O(1) (equal weights) or O(log n) (binary search over running sums) and allocates nothing: draw
 * from all endpoints and redraw when the draw is ineligible. Rejection keeps the distribution exact; after a few
 * misses (many endpoints down or avoided) a linear scan draws among exactly the eligible ones.
 */
export class WeightedSampler {
  private readonly endpoints: readonly Endpoint[];
  private readonly weights: Float64Array;
  /** Running sums of `weights`; undefined when all weights are equal and an index can be drawn directly. */
  private readonly cumulative: Float64Array | undefined;
  private readonly total: number;
  private readonly random: Random;

  constructor(endpoints: readonly Endpoint[], random: Random, byWeight: boolean) {
    this.endpoints = endpoints;
    this.random = random;
    const n = endpoints.length;
    this.weights = new Float64Array(n);
    let total = 0;
    let equal = true;
    for (let i = 0; i < n; i++) {
      const w = byWeight ? endpoints[i]!.weight : 1;
      this.weights[i] = w;
      total += w;
      if (w !== this.weights[0]) equal = false;
    }
    this.total = total;
    if (equal) {
      this.cumulative = undefined;
    } else {
      this.cumulative = new Float64Array(n);
      let sum = 0;
      for (let i = 0; i < n; i++) this.cumulative[i] = sum += this.weights[i]!;
    }
  }

  /** An eligible endpoint other than `exclude`, or undefined when there is none. */
  sample(avoid?: ReadonlySet<Endpoint>, exclude?: Endpoint): Endpoint | undefined {
    if (this.endpoints.length === 0) return undefined;
    for (let attempt = 0; attempt < DRAWS; attempt++) {
      const e = this.endpoints[this.drawIndex()]!;
      if (e !== exclude && e.healthy && (avoid === undefined || !avoid.has(e))) return e;
    }
    return this.scan(avoid, exclude);
  }

  private drawIndex(): number {
    const n = this.endpoints.length;
    const cumulative = this.cumulative;
    if (cumulative === undefined) return Math.min(n - 1, Math.floor(this.random() * n));
    const target = this.random() * this.total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private scan(avoid: ReadonlySet<Endpoint> | undefined, exclude: Endpoint | undefined): Endpoint | undefined {
    const endpoints = this.endpoints;
    // `exclude` counts towards "some unavoided endpoint exists": if it is the only one, there is no second choice,
    // rather than a fallback to the avoided ones.
    let unavoidedExists = false;
    let unavoidedTotal = 0;
    let healthyTotal = 0;
    for (let i = 0; i < endpoints.length; i++) {
      const e = endpoints[i]!;
      if (!e.healthy) continue;
      const avoided = avoid !== undefined && avoid.has(e);
      if (!avoided) unavoidedExists = true;
      if (e === exclude) continue;
      healthyTotal += this.weights[i]!;
      if (!avoided) unavoidedTotal += this.weights[i]!;
    }
    const skipAvoided = unavoidedExists && avoid !== undefined;
    const total = unavoidedExists ? unavoidedTotal : healthyTotal;
    if (total === 0) return undefined;
    let remaining = this.random() * total;
    let last: Endpoint | undefined;
    for (let i = 0; i < endpoints.length; i++) {
      const e = endpoints[i]!;
      if (!e.healthy || e === exclude || (skipAvoided && avoid.has(e))) continue;
      last = e;
      remaining -= this.weights[i]!;
      if (remaining < 0) return e;
    }
    return last;
  }
}
