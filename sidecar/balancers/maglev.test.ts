import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoint } from '../endpoints/endpoint.ts';
import { createBalancer, type Balancer } from './balancer.ts';
import { assertDistribution, makeEndpoints, mulberry32 } from './fixtures.ts';
import { buildMaglevTable } from './maglev-table.ts';

const KEYS = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);

function maglev(endpoints: readonly Endpoint[], tableSize = 65537): Balancer {
  return createBalancer({ type: 'ConsistentHash', consistentHash: { type: 'Header', header: { name: 'x-user' }, tableSize } }, endpoints, mulberry32(1));
}

function assign(balancer: Balancer, avoid?: ReadonlySet<Endpoint>): string[] {
  return KEYS.map((key) => balancer.pick(key, avoid)!.address);
}

function shares(assignment: readonly string[], endpoints: readonly Endpoint[]): number[] {
  const counts = new Map<string, number>();
  for (const a of assignment) counts.set(a, (counts.get(a) ?? 0) + 1);
  return endpoints.map((e) => (counts.get(e.address) ?? 0) / assignment.length);
}

function changed(before: readonly string[], after: readonly string[]): number {
  return before.filter((a, i) => a !== after[i]).length / before.length;
}

describe('consistent hash (Maglev)', () => {
  it('maps a key to the same endpoint, whatever order the endpoints were listed in', () => {
    const endpoints = makeEndpoints([1, 1, 1, 1, 1]);
    const once = assign(maglev(endpoints));
    assert.deepEqual(assign(maglev(endpoints)), once);
    assert.deepEqual(assign(maglev(endpoints.slice().reverse())), once);
  });

  it('spreads keys evenly: each of 5 endpoints gets 20 % ± 2 %', () => {
    const endpoints = makeEndpoints([1, 1, 1, 1, 1]);
    for (const share of shares(assign(maglev(endpoints)), endpoints)) assert.ok(Math.abs(share - 0.2) < 0.02, String(share));
  });

  it('remaps little more than the removed endpoint’s keys when one of 5 goes', () => {
    const endpoints = makeEndpoints([1, 1, 1, 1, 1]);
    const before = assign(maglev(endpoints));
    const after = assign(maglev(endpoints.slice(0, 4)));
    const removed = endpoints[4]!.address;
    assert.ok(before.every((a, i) => a !== removed || after[i] !== removed));
    const disruption = changed(before, after);
    const collateral = before.filter((a, i) => a !== removed && a !== after[i]).length / KEYS.length;
    assert.ok(disruption <= 0.25, `disruption ${disruption}`);
    assert.ok(collateral <= 0.03, `keys moved between surviving endpoints: ${collateral}`);
  });

  it('gives endpoints keys in proportion to weight', () => {
    const endpoints = makeEndpoints([2, 1]);
    const [heavy] = shares(assign(maglev(endpoints)), endpoints);
    assert.ok(Math.abs(heavy! - 2 / 3) < 0.02, String(heavy));
    const table = buildMaglevTable(makeEndpoints([3, 1, 1]), 65537);
    const slots = [0, 0, 0];
    for (const i of table) slots[i]!++;
    assert.ok(Math.abs(slots[0]! / 65537 - 0.6) < 0.005, String(slots));
  });

  it('moves only an unhealthy endpoint’s keys, to the same place every time, and back when it recovers', () => {
    const endpoints = makeEndpoints([1, 1, 1, 1, 1]);
    const balancer = maglev(endpoints);
    const before = assign(balancer);
    endpoints[2]!.healthy = false;
    const during = assign(balancer);
    assert.deepEqual(assign(balancer), during);
    const down = endpoints[2]!.address;
    assert.ok(during.every((a, i) => a !== down && (before[i] === down || a === before[i])));
    const moved = shares(during, endpoints);
    for (const [i, share] of moved.entries()) if (i !== 2) assert.ok(Math.abs(share - 0.25) < 0.025, String(moved));
    endpoints[2]!.healthy = true;
    assert.deepEqual(assign(balancer), before);
  });

  it('walks on to another endpoint for a retry, the same one for a given key', () => {
    const endpoints = makeEndpoints([1, 1, 1]);
    const balancer = maglev(endpoints);
    for (const key of KEYS.slice(0, 1000)) {
      const first = balancer.pick(key)!;
      const retry = balancer.pick(key, new Set([first]))!;
      assert.notEqual(retry, first);
      assert.equal(balancer.pick(key, new Set([first])), retry);
    }
  });

  it('picks at random, by weight, when the request has no key', () => {
    const endpoints = makeEndpoints([1, 3]);
    const balancer = maglev(endpoints);
    const counts = [0, 0];
    for (let i = 0; i < 20_000; i++) counts[endpoints.indexOf(balancer.pick(undefined)!)]!++;
    assertDistribution(counts, [0.25, 0.75]);
  });

  it('works with a small prime table and with more endpoints than slots', () => {
    const endpoints = makeEndpoints([1, 1, 1]);
    const small = maglev(endpoints, 251);
    for (const share of shares(assign(small), endpoints)) assert.ok(Math.abs(share - 1 / 3) < 0.03, String(share));
    const many = makeEndpoints(Array.from({ length: 300 }, () => 1));
    const crowded = maglev(many, 251);
    for (const e of many) e.healthy = false;
    many[299]!.healthy = true;
    assert.equal(crowded.pick('anything'), many[299]);
  });
});
