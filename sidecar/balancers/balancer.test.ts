import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoadBalancerSpec } from '../../policy/schema/traffic-policy.ts';
import { Endpoint } from '../endpoints/endpoint.ts';
import { createBalancer } from './balancer.ts';
import { makeEndpoints, mulberry32 } from './fixtures.ts';

const SPECS: LoadBalancerSpec[] = [
  { type: 'RoundRobin' },
  { type: 'Random' },
  { type: 'LeastRequest' },
  { type: 'PeakEWMA' },
  { type: 'ConsistentHash', consistentHash: { type: 'Header', header: { name: 'x-user' }, tableSize: 251 } },
];

describe('every balancer', () => {
  for (const spec of SPECS) {
    describe(spec.type, () => {
      const build = (endpoints: readonly Endpoint[]) => createBalancer(spec, endpoints, mulberry32(7), () => 0);

      it('returns undefined without healthy endpoints', () => {
        assert.equal(build([]).pick('k'), undefined);
        const endpoints = makeEndpoints([1, 2]);
        for (const e of endpoints) e.healthy = false;
        const balancer = build(endpoints);
        assert.equal(balancer.pick('k'), undefined);
        assert.equal(balancer.pick('k', new Set(endpoints)), undefined);
      });

      it('works with a single endpoint, even one to avoid', () => {
        const [only] = makeEndpoints([3]);
        const balancer = build([only!]);
        for (let i = 0; i < 10; i++) assert.equal(balancer.pick(`k${i}`), only);
        assert.equal(balancer.pick('k', new Set([only!])), only);
      });

      it('never picks an unhealthy or avoided endpoint while another is available', () => {
        const endpoints = makeEndpoints([1, 1, 1, 1]);
        endpoints[1]!.healthy = false;
        const avoid = new Set([endpoints[2]!]);
        const balancer = build(endpoints);
        const seen = new Set<number>();
        for (let i = 0; i < 2000; i++) seen.add(endpoints.indexOf(balancer.pick(`key-${i}`, avoid)!));
        assert.deepEqual([...seen].sort(), [0, 3]);
      });

      it('falls back to an avoided endpoint when every healthy one is avoided', () => {
        const endpoints = makeEndpoints([1, 1, 1]);
        endpoints[0]!.healthy = false;
        const balancer = build(endpoints);
        const avoidAll = new Set(endpoints);
        const seen = new Set<number>();
        for (let i = 0; i < 200; i++) seen.add(endpoints.indexOf(balancer.pick(`key-${i}`, avoidAll)!));
        assert.deepEqual([...seen].sort(), [1, 2]);
      });

      it('follows health changes without a rebuild', () => {
        const endpoints = makeEndpoints([1, 1]);
        const balancer = build(endpoints);
        endpoints[0]!.healthy = false;
        for (let i = 0; i < 50; i++) assert.equal(balancer.pick(`key-${i}`), endpoints[1]);
        endpoints[0]!.healthy = true;
        endpoints[1]!.healthy = false;
        for (let i = 0; i < 50; i++) assert.equal(balancer.pick(`key-${i}`), endpoints[0]);
      });
    });
  }

  it('rejects a weight that is not positive', () => {
    assert.throws(() => createBalancer({ type: 'Random' }, [new Endpoint({ address: '10.0.0.1:80', weight: 0 })]), RangeError);
  });
});
