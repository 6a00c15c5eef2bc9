import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBalancer, DEFAULT_LOAD_BALANCER } from './balancer.ts';
import { assertDistribution, countPicks, makeEndpoints, mulberry32 } from './fixtures.ts';

const LR = { type: 'LeastRequest' } as const;

describe('least request (two choices)', () => {
  it('is the default', () => {
    assert.equal(DEFAULT_LOAD_BALANCER.type, 'LeastRequest');
  });

  it('sends an idle cluster traffic in proportion to weight', () => {
    const endpoints = makeEndpoints([1, 2, 3, 4]);
    assertDistribution(countPicks(createBalancer(LR, endpoints, mulberry32(1)), endpoints, 100_000), [0.1, 0.2, 0.3, 0.4]);
  });

  it('takes the less loaded of two distinct choices: each wins against every busier one', () => {
    const endpoints = makeEndpoints([1, 1, 1, 1, 1]);
    endpoints.forEach((e, i) => (e.active = i));
    const counts = countPicks(createBalancer(LR, endpoints, mulberry32(2)), endpoints, 100_000);
    // Of the 10 equally likely pairs, endpoint i wins the 4 - i it forms with busier endpoints.
    assertDistribution(counts, [0.4, 0.3, 0.2, 0.1, 0]);
  });

  it('still sends some traffic to a busy endpoint that is not the worst of every pair', () => {
    const endpoints = makeEndpoints([1, 1, 1, 1]);
    endpoints[0]!.active = 50;
    endpoints[1]!.active = 60;
    const counts = countPicks(createBalancer(LR, endpoints, mulberry32(3)), endpoints, 60_000);
    assertDistribution(counts, [1 / 6, 0, 5 / 12, 5 / 12]);
  });

  it('compares requests in flight per unit of weight', () => {
    const endpoints = makeEndpoints([4, 1]);
    endpoints[0]!.active = 4;
    endpoints[1]!.active = 2;
    const balancer = createBalancer(LR, endpoints, mulberry32(4));
    for (let i = 0; i < 1000; i++) assert.equal(balancer.pick(), endpoints[0]);
    endpoints[0]!.active = 12;
    for (let i = 0; i < 1000; i++) assert.equal(balancer.pick(), endpoints[1]);
  });

  it('breaks ties at random', () => {
    const endpoints = makeEndpoints([1, 1]);
    endpoints[0]!.active = 3;
    endpoints[1]!.active = 3;
    assertDistribution(countPicks(createBalancer(LR, endpoints, mulberry32(5)), endpoints, 20_000), [0.5, 0.5]);
  });

  it('gives a suspect endpoint no more than its weight share, however busy its peers are', () => {
    const endpoints = makeEndpoints([10, 1]);
    const suspect = endpoints[1]!;
    suspect.suspect = true;
    endpoints[0]!.active = 3;
    const counts = countPicks(createBalancer(LR, endpoints, mulberry32(9)), endpoints, 50_000);
    // Drawn first 1/11 of the time, and then it wins (idle); never as the second choice.
    assertDistribution(counts, [10 / 11, 1 / 11]);
  });
});
