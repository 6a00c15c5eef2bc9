import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { send, sendWithTrailers } from './support/client.ts';
import { endpointsYaml, startSidecarProcess, writeConfig, type SidecarProcess } from './support/sidecar-process.ts';
import { echo, startUpstream, type TestUpstream } from './support/upstream.ts';

/** app A → sidecar A (outbound) → sidecar B (inbound) → app B: the real mesh hop, with load balancing over replicas. */
describe('two sidecars in series', () => {
  const replicas: TestUpstream[] = [];
  const peers: SidecarProcess[] = [];
  let frontendApp: TestUpstream;
  let frontend: SidecarProcess;

  before(async () => {
    frontendApp = await startUpstream(echo, 'frontend');
    for (const name of ['catalog-1', 'catalog-2', 'catalog-3']) {
      const replica = await startUpstream(echo, name);
      replicas.push(replica);
      peers.push(await startSidecarProcess({ service: 'catalog', app: replica.address, config: writeConfig({ 'none.yaml': '' }) }));
    }
    const config = writeConfig({
      'catalog.yaml': endpointsYaml('catalog', peers.map((p) => `127.0.0.1:${p.inboundPort}`)),
      'policy.yaml': `apiVersion: outrigger.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: catalog }
spec:
  targetRefs: [{ group: "", kind: Service, name: catalog }]
  loadBalancer: { type: RoundRobin }
`,
    });
    frontend = await startSidecarProcess({ service: 'frontend', app: frontendApp.address, config });
  });

  after(async () => {
    for (const s of [frontend, ...peers]) await s?.stop();
    for (const u of [frontendApp, ...replicas]) await u?.close();
  });

  test('requests cross both sidecars and spread evenly over the replicas', async () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const res = await send(frontend.outboundPort, { path: `/items/${i}`, headers: { host: 'catalog' } });
      assert.equal(res.status, 200);
      const seen = JSON.parse(res.body);
      assert.equal(seen.url, `/items/${i}`);
      assert.equal(seen.headers.host, 'catalog');
      assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1, 127.0.0.1');
      const by = String(res.headers['x-served-by']);
      counts.set(by, (counts.get(by) ?? 0) + 1);
    }
    assert.deepEqual([...counts.values()], [10, 10, 10]);
  });

  test('one request id follows the request across the hop', async () => {
    const res = await send(frontend.outboundPort, { headers: { host: 'catalog', 'x-request-id': 'trace-me' } });
    assert.equal(JSON.parse(res.body).headers['x-request-id'], 'trace-me');
  });

  test('announced request trailers cross both sidecars to the app', async () => {
    const res = await sendWithTrailers(frontend.outboundPort, { host: 'catalog', path: '/upload', trailers: { 'x-checksum': 'c0ffee' }, announce: 'x-checksum' });
    assert.equal(res.status, 200);
    const seen = JSON.parse(res.body) as { bodyBytes: number; trailers?: Record<string, string>; headers: Record<string, string> };
    assert.equal(seen.bodyBytes, 'part one;part two'.length);
    assert.equal(seen.headers.trailer, 'x-checksum');
    assert.deepEqual(seen.trailers, { 'x-checksum': 'c0ffee' });
  });
});
