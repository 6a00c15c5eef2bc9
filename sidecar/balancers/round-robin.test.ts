import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBalancer } from './balancer.ts';
import { makeEndpoints, mulberry32 } from './fixtures.ts';

const RR = { type: 'RoundRobin' } as const;
const start = () => 0;

function sequence(weights: number[], picks: number, random = start): string {
  const endpoints = makeEndpoints(weights);
  const balancer = createBalancer(RR, endpoints, random);
  let out = '';
  for (let i = 0; i < picks; i++) out += 'abcdefgh'[endpoints.indexOf(balancer.pick()!)];
  return out;
}

describe('round robin', () => {
  it('rotates through equal weights in order', () => {
    assert.equal(sequence([1, 1, 1], 7), 'abcabca');
    assert.equal(sequence([3, 3], 4), 'abab');
  });

  it('starts at a random point of the rotation', () => {
    const starts = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const s = sequence([1, 1, 1], 6, mulberry32(seed));
      assert.ok(['abcabc', 'bcabca', 'cabcab'].includes(s), s);
      starts.add(s[0]!);
    }
    assert.equal(starts.size, 3);
  });

  it("interleaves weights 5:1:1 as nginx's smooth weighted round robin does", () => {
    assert.equal(sequence([5, 1, 1], 14), 'aabacaa'.repeat(2));
  });

  it('gives exact shares, and every window of one cycle holds each endpoint its weight times', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const s = sequence([5, 1, 1], 7000, mulberry32(seed));
      assert.deepEqual([...'abc'].map((c) => s.split(c).length - 1), [5000, 1000, 1000]);
      for (let i = 0; i + 7 <= s.length; i++) {
        const window = s.slice(i, i + 7);
        assert.equal(window.split('b').length - 1, 1, window);
        assert.equal(window.split('c').length - 1, 1, window);
      }
      assert.ok(!s.includes('aaaaa'), 'the weight-5 endpoint came in a burst of five');
    }
  });

  it('skips unhealthy endpoints and shares among the rest by weight', () => {
    const endpoints = makeEndpoints([3, 2, 1]);
    endpoints[0]!.healthy = false;
    const balancer = createBalancer(RR, endpoints, start);
    const counts = [0, 0, 0];
    for (let i = 0; i < 300; i++) counts[endpoints.indexOf(balancer.pick()!)]!++;
    assert.deepEqual(counts, [0, 200, 100]);
    endpoints[0]!.healthy = true;
    for (let i = 0; i < 600; i++) counts[endpoints.indexOf(balancer.pick()!)]!++;
    assert.ok(counts[0]! >= 295 && counts[0]! <= 305, String(counts));
  });
});
