import assert from 'node:assert/strict';
import { Endpoint } from '../endpoints/endpoint.ts';
import type { Balancer, Random } from './balancer.ts';

/** mulberry32: a small seeded PRNG, so that tests and benchmarks replay exactly. */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeEndpoints(weights: readonly number[]): Endpoint[] {
  return weights.map((weight, i) => new Endpoint({ address: `10.0.0.${i + 1}:8080`, weight }));
}

/** How many of `picks` went to each endpoint, by index in `endpoints`. */
export function countPicks(balancer: Balancer, endpoints: readonly Endpoint[], picks: number, avoid?: ReadonlySet<Endpoint>): number[] {
  const counts = endpoints.map(() => 0);
  for (let i = 0; i < picks; i++) {
    const e = balancer.pick(undefined, avoid);
    assert.ok(e, 'picked nothing');
    counts[endpoints.indexOf(e)]!++;
  }
  return counts;
}

/** Critical values of chi-square at p = 0.001, by degrees of freedom. */
const CRITICAL = [Infinity, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12, 27.88];

/** Asserts that `counts` fit the expected `shares` (summing to 1, zero shares must get zero counts). */
export function assertDistribution(counts: readonly number[], shares: readonly number[]): void {
  const total = counts.reduce((a, b) => a + b, 0);
  let statistic = 0;
  let df = -1;
  for (let i = 0; i < counts.length; i++) {
    const expected = total * shares[i]!;
    if (expected === 0) {
      assert.equal(counts[i], 0, `endpoint ${i} should get nothing: ${counts.join('/')}`);
      continue;
    }
    statistic += (counts[i]! - expected) ** 2 / expected;
    df++;
  }
  assert.ok(statistic < CRITICAL[df]!, `counts ${counts.join('/')} do not fit shares ${shares.map((s) => s.toFixed(3)).join('/')} (chi² ${statistic.toFixed(1)}, df ${df})`);
}
