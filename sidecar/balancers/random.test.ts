import { describe, it } from 'node:test';
import { createBalancer } from './balancer.ts';
import { assertDistribution, countPicks, makeEndpoints, mulberry32 } from './fixtures.ts';

const RANDOM = { type: 'Random' } as const;

describe('random', () => {
  it('spreads equal weights evenly', () => {
    const endpoints = makeEndpoints([1, 1, 1, 1, 1]);
    const counts = countPicks(createBalancer(RANDOM, endpoints, mulberry32(1)), endpoints, 100_000);
    assertDistribution(counts, [0.2, 0.2, 0.2, 0.2, 0.2]);
  });

  it('picks in proportion to weight', () => {
    const endpoints = makeEndpoints([1, 2, 3, 4]);
    const counts = countPicks(createBalancer(RANDOM, endpoints, mulberry32(2)), endpoints, 100_000);
    assertDistribution(counts, [0.1, 0.2, 0.3, 0.4]);
  });

  it('renormalises over the healthy, unavoided endpoints', () => {
    const endpoints = makeEndpoints([1, 2, 3, 4]);
    endpoints[3]!.healthy = false;
    const balancer = createBalancer(RANDOM, endpoints, mulberry32(3));
    assertDistribution(countPicks(balancer, endpoints, 60_000), [1 / 6, 2 / 6, 3 / 6, 0]);
    assertDistribution(countPicks(balancer, endpoints, 40_000, new Set([endpoints[2]!])), [1 / 3, 2 / 3, 0, 0]);
  });

  it('stays exact when most endpoints are down (the scan fallback)', () => {
    const endpoints = makeEndpoints([5, 5, 5, 5, 5, 5, 5, 5, 1, 2]);
    for (const e of endpoints.slice(0, 8)) e.healthy = false;
    const counts = countPicks(createBalancer(RANDOM, endpoints, mulberry32(4)), endpoints, 30_000);
    assertDistribution(counts, [0, 0, 0, 0, 0, 0, 0, 0, 1 / 3, 2 / 3]);
  });
});
