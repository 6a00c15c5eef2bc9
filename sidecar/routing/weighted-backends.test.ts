import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { weightedBackends } from './weighted-backends.ts';
import type { BackendTarget } from './weighted-backends.ts';
import { mulberry32 as seeded } from '../balancers/fixtures.ts';

function target(service: string, weight: number): BackendTarget {
  return { service, namespace: 'shop', weight, filters: [] };
}

describe('weightedBackends', () => {
  it('picks in proportion to weight (within ±3σ over 100 000 picks)', () => {
    const backends = weightedBackends([target('a', 1), target('b', 2), target('zero', 0), target('c', 7)]);
    assert.equal(backends.totalWeight, 10);
    const random = seeded(42);
    const n = 100_000;
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const picked = backends.pick(random);
      assert.ok(picked);
      counts.set(picked.service, (counts.get(picked.service) ?? 0) + 1);
    }
    assert.equal(counts.get('zero'), undefined);
    for (const [service, weight] of [['a', 1], ['b', 2], ['c', 7]] as const) {
      const p = weight / 10;
      const sigma = Math.sqrt(n * p * (1 - p));
      const count = counts.get(service) ?? 0;
      assert.ok(Math.abs(count - n * p) <= 3 * sigma, `${service}: ${count} vs ${n * p} ± ${3 * sigma}`);
    }
  });

  it('never picks a weight-0 backend, even at the edges of [0, 1)', () => {
    const backends = weightedBackends([target('zero', 0), target('a', 1), target('zero2', 0), target('b', 1), target('zero3', 0)]);
    assert.equal(backends.pick(() => 0)?.service, 'a');
    assert.equal(backends.pick(() => 0.5)?.service, 'b');
    assert.equal(backends.pick(() => 0.999999)?.service, 'b');
    assert.equal(backends.pick(() => 1)?.service, 'b', 'a broken random() still picks a positive-weight backend');
  });

  it('returns undefined when all weights are 0 or there are no backends (the proxy answers 500)', () => {
    assert.equal(weightedBackends([target('a', 0), target('b', 0)]).pick(Math.random), undefined);
    assert.equal(weightedBackends([target('a', 0)]).totalWeight, 0);
    assert.equal(weightedBackends([]).pick(Math.random), undefined);
    assert.equal(weightedBackends([target('a', 0), target('b', 0)]).all.length, 2);
  });

  it('a single positive backend is returned without drawing a random number', () => {
    const backends = weightedBackends([target('a', 0), target('b', 5)]);
    assert.equal(backends.pick(() => assert.fail('random() called'))?.service, 'b');
  });
});
