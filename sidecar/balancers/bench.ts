/** Micro-benchmark, not a test: ns per pick for each balancer over 10 endpoints. `npx node sidecar/balancers/bench.ts` */
import type { LoadBalancerSpec } from '../../policy/schema/traffic-policy.ts';
import { createBalancer, type Balancer } from './balancer.ts';
import { makeEndpoints } from './fixtures.ts';
import { buildMaglevTable } from './maglev-table.ts';

const PICKS = 1_000_000;
const KEYS = Array.from({ length: 1024 }, (_, i) => `5f0c6a2e-user-${i * 7919}`);

const cases: [string, LoadBalancerSpec, readonly number[]][] = [
  ['RoundRobin (equal weights)', { type: 'RoundRobin' }, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
  ['RoundRobin (weighted)', { type: 'RoundRobin' }, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]],
  ['Random (weighted)', { type: 'Random' }, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]],
  ['LeastRequest (weighted)', { type: 'LeastRequest' }, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]],
  ['PeakEWMA', { type: 'PeakEWMA' }, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
  ['ConsistentHash (Maglev 65537)', { type: 'ConsistentHash', consistentHash: { type: 'Header', header: { name: 'x-user' }, tableSize: 65537 } }, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
];

function run(balancer: Balancer, keyed: boolean, picks: number): number {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < picks; i++) sink += balancer.pick(keyed ? KEYS[i & 1023] : undefined)!.port;
  const ns = Number(process.hrtime.bigint() - start) / picks;
  if (sink === 0) throw new Error('unreachable');
  return ns;
}

for (const [name, spec, weights] of cases) {
  const endpoints = makeEndpoints(weights);
  endpoints.forEach((e, i) => {
    e.active = i % 4;
    e.observeLatency(5 + i, performance.now());
  });
  const balancer = createBalancer(spec, endpoints);
  const keyed = spec.type === 'ConsistentHash';
  run(balancer, keyed, PICKS / 5);
  console.log(`${name.padEnd(32)} ${run(balancer, keyed, PICKS).toFixed(1).padStart(6)} ns/pick`);
}

const builds = 20;
const entries = makeEndpoints([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
buildMaglevTable(entries, 65537);
const start = performance.now();
for (let i = 0; i < builds; i++) buildMaglevTable(entries, 65537);
console.log(`${'Maglev table build (10 × 65537)'.padEnd(32)} ${((performance.now() - start) / builds).toFixed(2).padStart(6)} ms`);
