import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBalancer } from './balancer.ts';
import { assertDistribution, countPicks, makeEndpoints, mulberry32 } from './fixtures.ts';

const EWMA = { type: 'PeakEWMA' } as const;

describe('peak EWMA (two choices)', () => {
  it('ranks endpoints by observed latency', () => {
    const endpoints = makeEndpoints([1, 1, 1, 1]);
    [10, 20, 40, 80].forEach((ms, i) => endpoints[i]!.observeLatency(ms, 0));
    const counts = countPicks(createBalancer(EWMA, endpoints, mulberry32(1), () => 0), endpoints, 60_000);
    assertDistribution(counts, [3 / 6, 2 / 6, 1 / 6, 0]);
  });

  it('weighs latency by the requests already in flight', () => {
    const endpoints = makeEndpoints([1, 1, 1]);
    for (const e of endpoints) e.observeLatency(10, 0);
    endpoints[0]!.active = 3;
    const counts = countPicks(createBalancer(EWMA, endpoints, mulberry32(2), () => 0), endpoints, 30_000);
    assertDistribution(counts, [0, 0.5, 0.5]);
  });

  it('starves a slow endpoint, then tries it again once its estimate has decayed, and it recovers', () => {
    const endpoints = makeEndpoints([1, 1, 1]);
    let now = 0;
    const balancer = createBalancer(EWMA, endpoints, mulberry32(3), () => now);
    const slow = endpoints[0]!;
    let slowMs = 500;
    // One request every 10 ms, one at a time; each reports its latency when it is picked.
    const run = (untilMs: number): number[] => {
      const counts = [0, 0, 0];
      for (; now < untilMs; now += 10) {
        const e = balancer.pick()!;
        e.observeLatency(e === slow ? slowMs : 10, now);
        counts[endpoints.indexOf(e)]!++;
      }
      return counts;
    };
    const slowPhase = run(20_000);
    assert.ok(slowPhase[0]! < 10, `slow endpoint got ${slowPhase[0]} of 2000 requests`);
    slowMs = 10;
    run(60_000); // 500 ms decays below 10 ms after ln(50)·10 s ≈ 39 s without samples
    const recovered = run(80_000);
    assert.ok(recovered[0]! > 580 && recovered[0]! < 760, `recovered endpoint got ${recovered[0]} of 2000 requests`);
  });

  it('draws choices uniformly: weight counts once, through the cost', () => {
    const endpoints = makeEndpoints([2, 1, 1]);
    const counts = countPicks(createBalancer(EWMA, endpoints, mulberry32(4), () => 0), endpoints, 30_000);
    // Equal latency: the weight-2 endpoint has half the cost and wins both pairs it is in (2 of 3).
    assertDistribution(counts, [2 / 3, 1 / 6, 1 / 6]);
  });
});
