import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { getJson } from './support/client.ts';
import { runLoad, type LoadResult } from './support/load.ts';
import { startReplica, type Replica } from './support/replicas.ts';
import { endpointsYaml, startSidecarProcess, writeConfig, type SidecarProcess } from './support/sidecar-process.ts';
import { echo, startUpstream, type TestUpstream } from './support/upstream.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Clusters {
  services: {
    service: string;
    retryBudget: { retries: number; budgetExhausted: number };
    endpoints: { address: string; healthy: boolean; outlier: { ejections: number } | null }[];
  }[];
}

/** Only the ejection time is shortened (2 s instead of 30 s) so the return can be watched; thresholds are defaults. */
const DEFAULT_POLICY = `apiVersion: outrigger.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: upstream }
spec:
  targetRefs: [{ group: "", kind: Service, name: upstream }]
  healthCheck: { passive: { baseEjectionTime: 2s } }
`;
const POLICIES_OFF = `apiVersion: outrigger.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: upstream }
spec:
  targetRefs: [{ group: "", kind: Service, name: upstream }]
  retry: { numRetries: 0 }
  healthCheck: { passive: { consecutive5XxErrors: 0, consecutiveGatewayErrors: 0 } }
`;

describe('resilience with real processes: a replica dies, one slows down, one returns 500s', () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  async function scenario(policy: string): Promise<{ load: LoadResult; clusters: Clusters; ejectedDuring500s: boolean; returnedAfterRecovery: boolean; cServedAfterReturn: number }> {
    const replicas: Replica[] = [];
    for (const name of ['a', 'b', 'c']) replicas.push(await startReplica(name));
    cleanup.push(async () => void (await Promise.all(replicas.map((r) => r.kill()))));
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    const app: TestUpstream = await startUpstream(echo, 'app');
    cleanup.push(() => app.close());
    const config = writeConfig({ 'upstream.yaml': endpointsYaml('upstream', replicas.map((r) => r.address)), 'policy.yaml': policy });
    const sidecar: SidecarProcess = await startSidecarProcess({ service: 'client', app: app.address, config });
    cleanup.push(() => sidecar.stop());
    const clusters = async (): Promise<Clusters> => (await getJson<Clusters>(sidecar.adminPort, '/clusters')).body;
    const endpointOf = (view: Clusters, replica: Replica) => view.services.find((s) => s.service === 'upstream.default')?.endpoints.find((e) => e.address === replica.address);

    let done = false;
    const load = runLoad(sidecar.outboundPort, 'upstream', 8, 30_000, () => done);
    await sleep(1_500);
    await a.kill();
    await sleep(2_000);
    await b.setMode('slow');
    await sleep(2_000);
    await b.setMode('ok');
    await c.setMode('500');
    await sleep(1_000);
    const ejectedDuring500s = endpointOf(await clusters(), c)?.healthy === false;
    await sleep(500);
    await c.setMode('ok');
    await sleep(2_500);
    const returnedAfterRecovery = endpointOf(await clusters(), c)?.healthy === true;
    const servedBefore = await c.served();
    await sleep(1_000);
    const cServedAfterReturn = (await c.served()) - servedBefore;
    done = true;
    return { load: await load, clusters: await clusters(), ejectedDuring500s, returnedAfterRecovery, cServedAfterReturn };
  }

  test('defaults keep ≥ 99.9 % of idempotent requests succeeding, within the retry budget; policies off do worse', async (t) => {
    const withPolicies = await scenario(DEFAULT_POLICY);
    const without = await scenario(POLICIES_OFF);
    const rate = (r: LoadResult) => (100 * r.ok) / r.sent;
    t.diagnostic(`default policies: ${withPolicies.load.ok}/${withPolicies.load.sent} ok = ${rate(withPolicies.load).toFixed(3)} %; failures ${JSON.stringify([...withPolicies.load.failures])}`);
    t.diagnostic(`policies off:     ${without.load.ok}/${without.load.sent} ok = ${rate(without.load).toFixed(3)} %; failures ${JSON.stringify([...without.load.failures])}`);

    assert.ok(withPolicies.load.sent > 1000, `enough load to measure (${withPolicies.load.sent})`);
    assert.ok(rate(withPolicies.load) >= 99.9, `success rate with defaults ${rate(withPolicies.load).toFixed(3)} %`);
    assert.ok(rate(without.load) < rate(withPolicies.load), 'turning the policies off costs failed requests');

    const upstream = withPolicies.clusters.services.find((s) => s.service === 'upstream.default');
    assert.ok(upstream);
    const seconds = 10;
    assert.ok(upstream.retryBudget.retries <= 0.2 * withPolicies.load.sent + 10 * seconds, `retries ${upstream.retryBudget.retries} within budget`);
    assert.ok(withPolicies.ejectedDuring500s, 'the replica returning 500s was ejected');
    assert.ok(withPolicies.returnedAfterRecovery, 'it came back after recovering');
    assert.ok(withPolicies.cServedAfterReturn > 0, 'and serves traffic again');
  });

  test('retry storm: when every replica fails, upstream attempts stay ≤ 1.2 × requests + the floor', async (t) => {
    const replicas: Replica[] = [];
    for (const name of ['x', 'y', 'z']) replicas.push(await startReplica(name));
    cleanup.push(async () => void (await Promise.all(replicas.map((r) => r.kill()))));
    for (const r of replicas) await r.setMode('503');
    const app = await startUpstream(echo, 'app');
    cleanup.push(() => app.close());
    const sidecar = await startSidecarProcess({ service: 'client', app: app.address, config: writeConfig({ 'upstream.yaml': endpointsYaml('upstream', replicas.map((r) => r.address)) }) });
    cleanup.push(() => sidecar.stop());
    let done = false;
    const loadPromise = runLoad(sidecar.outboundPort, 'upstream', 8, 10_000, () => done);
    await sleep(4_000);
    done = true;
    const load = await loadPromise;
    const attempts = (await Promise.all(replicas.map((r) => r.served()))).reduce((a, b) => a + b, 0);
    const floor = 10 * 10; // 10 retries/s over the 10 s window
    t.diagnostic(`requests ${load.sent}, upstream attempts ${attempts} (${(attempts / load.sent).toFixed(3)} per request)`);
    assert.equal(load.ok, 0);
    assert.ok(attempts <= 1.2 * load.sent + floor, `attempts ${attempts} ≤ 1.2 × ${load.sent} + ${floor}`);
  });
});
