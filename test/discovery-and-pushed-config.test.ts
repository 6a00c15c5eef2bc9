import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StaticDiscoverySource, type DiscoveredEndpoint } from '../sidecar/discovery/discovery-source.ts';
import { startSidecar, type RunningSidecar } from '../sidecar/sidecar.ts';
import { getJson, send } from './support/client.ts';
import { runLoad } from './support/load.ts';
import { echo, startUpstream, type TestUpstream } from './support/upstream.ts';

interface ClustersView {
  services: { service: string; endpoints: { address: string; origin: string; suspect: boolean; weight: number }[] }[];
}
interface DumpView {
  version: string;
  generation: number;
  source: string;
  lastReload: { ok: boolean; source: string; errors: { file: string; line: number; path: string; message: string }[] };
  discovery: { services: number; rebuilds: number };
}

async function until<T>(probe: () => Promise<T> | T, accept: (value: T) => boolean, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!accept(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 20));
    last = await probe();
  }
  return last;
}

const healthy = (u: TestUpstream): DiscoveredEndpoint => ({ address: u.address, weight: 1, state: 'healthy' });
const suspect = (u: TestUpstream): DiscoveredEndpoint => ({ address: u.address, weight: 1, state: 'suspect' });

describe('a sidecar fed by discovery and pushed config, without any config path', () => {
  let app: TestUpstream;
  let a: TestUpstream;
  let b: TestUpstream;
  let c: TestUpstream;
  let v2: TestUpstream;
  const discovery = new StaticDiscoverySource();
  let sidecar: RunningSidecar;

  before(async () => {
    app = await startUpstream(echo, 'app');
    a = await startUpstream(echo, 'a');
    b = await startUpstream(echo, 'b');
    c = await startUpstream(echo, 'c');
    v2 = await startUpstream(echo, 'v2');
    sidecar = await startSidecar({
      service: 'frontend',
      namespace: 'default',
      app: app.address,
      inboundPort: 0,
      outboundPort: 0,
      adminPort: 0,
      inboundHost: '127.0.0.1',
      discovery,
      accessLog: 'off',
      logLevel: 'error',
      logFormat: 'json',
      watch: false,
    });
  });

  after(async () => {
    await sidecar?.close();
    for (const u of [app, a, b, c, v2]) await u?.close();
  });

  const servedBy = async (path = '/'): Promise<string> => {
    const res = await send(sidecar.outboundPort, { path, headers: { host: 'catalog' } });
    return `${res.status} ${String(res.headers['x-served-by'] ?? res.headers['x-outrigger-reason'] ?? '')}`;
  };
  const endpointsOf = (service: string): string[] => sidecar.store.current.services.get(service)?.endpoints.map((e) => e.address) ?? [];
  const dump = async (): Promise<DumpView> => (await getJson<DumpView>(sidecar.adminPort, '/config_dump')).body;

  test('starts on an empty policy: inbound works, an unknown Host is 404', async () => {
    assert.equal((await dump()).source, 'none');
    assert.equal((await send(sidecar.inboundPort, {})).headers['x-served-by'], 'app');
    assert.equal((await send(sidecar.outboundPort, { headers: { host: 'catalog' } })).status, 404);
  });

  test('a Service known only through discovery is reachable by its Host', async () => {
    discovery.set('catalog.default', [healthy(a)]);
    assert.equal(await until(servedBy, (s) => s === '200 a', 'catalog to be served by a'), '200 a');
    const clusters = (await getJson<ClustersView>(sidecar.adminPort, '/clusters')).body;
    const catalog = clusters.services.find((s) => s.service === 'catalog.default');
    assert.deepEqual(catalog?.endpoints.map((e) => [e.address, e.origin, e.suspect]), [[a.address, 'discovered', false]]);
    const d = await dump();
    assert.equal(d.generation, 1, 'discovery rebuilds keep the config generation');
    assert.ok(d.discovery.rebuilds >= 1);
  });

  test('an endpoint removed from discovery stops getting traffic, with no failed request for a steady client', async () => {
    discovery.set('catalog.default', [healthy(a), healthy(b)]);
    await until(() => endpointsOf('catalog.default').length, (n) => n === 2, 'b to join');
    let stop = false;
    const load = runLoad(sidecar.outboundPort, 'catalog', 2, 10_000, () => stop);
    await until(() => b.requests.length, (n) => n >= 20, 'b to take traffic');
    discovery.set('catalog.default', [healthy(a)]);
    await until(() => endpointsOf('catalog.default'), (e) => e.length === 1, 'b to be removed');
    // Requests that picked b just before the swap may still land on it; wait them out, then nothing more may arrive.
    await new Promise((r) => setTimeout(r, 100));
    const bAfterRemoval = b.requests.length;
    const aBefore = a.requests.length;
    await until(() => a.requests.length, (n) => n >= aBefore + 50, 'a to keep serving');
    stop = true;
    const result = await load;
    assert.equal(b.requests.length, bAfterRemoval, 'b got traffic after it left discovery');
    assert.deepEqual([...result.failures], [], 'no request failed');
    assert.ok(result.ok > 100, `only ${result.ok} requests went through`);
  });

  test('a suspect endpoint gets a small share of traffic (here ≤ 15 %), also under concurrent load, and /clusters says so', async () => {
    // One healthy peer is the hardest case: with more, the suspect's share only shrinks.
    discovery.set('catalog.default', [healthy(a), suspect(c)]);
    await until(() => sidecar.store.current.services.get('catalog.default')?.endpoints.find((e) => e.address === c.address)?.suspect, (s) => s === true, 'c to be suspect');
    const share = async (concurrency: number, requests: number): Promise<number> => {
      const [aBefore, cBefore] = [a.requests.length, c.requests.length];
      const served = (): number => a.requests.length - aBefore + c.requests.length - cBefore;
      const result = await runLoad(sidecar.outboundPort, 'catalog', concurrency, 10_000, () => served() >= requests);
      assert.deepEqual([...result.failures], []);
      return (c.requests.length - cBefore) / served();
    };
    for (const concurrency of [1, 4]) {
      const observed = await share(concurrency, 400);
      assert.ok(observed <= 0.15, `concurrency ${concurrency}: suspect share ${(observed * 100).toFixed(1)} %`);
      assert.ok(observed > 0, `concurrency ${concurrency}: a suspect endpoint still gets a trickle`);
    }
    const clusters = (await getJson<ClustersView>(sidecar.adminPort, '/clusters')).body;
    const view = clusters.services.find((s) => s.service === 'catalog.default')?.endpoints.find((e) => e.address === c.address);
    assert.deepEqual(view && { origin: view.origin, suspect: view.suspect, weight: view.weight }, { origin: 'discovered', suspect: true, weight: 0.1 });
  });

  test('pushed YAML changes routing; invalid YAML is rejected with file and line and the old routing keeps working', async () => {
    discovery.set('catalog-v2.default', [healthy(v2)]);
    await until(() => endpointsOf('catalog-v2.default').length, (n) => n === 1, 'catalog-v2 to be discovered');
    const route = (prefix: string): string => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: catalog }
spec:
  parentRefs: [{ group: "", kind: Service, name: catalog }]
  rules:
    - matches: [{ path: { type: PathPrefix, value: ${prefix} } }]
      backendRefs: [{ name: catalog-v2 }]
`;
    const ok = await sidecar.applyTexts([{ name: 'routes.yaml', text: route('/v2') }], 'snapshot v12');
    assert.deepEqual(ok.errors, []);
    assert.equal(await servedBy('/v2/items'), '200 v2');
    assert.notEqual(await servedBy('/items'), '200 v2');
    const good = await dump();
    assert.equal(good.source, 'snapshot v12');
    assert.equal(good.generation, 2);

    const rejected = await sidecar.applyTexts(
      [
        { name: 'routes.yaml', text: route('/v3').replace('backendRefs:', 'backendRefz:') },
        { name: 'mesh.yaml', text: 'apiVersion: outrigger.dev/v1alpha1\nkind: Mesh\nmetadata: { name: default }\nspec: { reasonHeader: Sometimes }\n' },
      ],
      'snapshot v13',
    );
    assert.equal(rejected.ok, false);
    const located = rejected.errors.map((e) => `${e.file}:${e.line}`);
    assert.ok(located.includes('routes.yaml:8'), located.join(', '));
    assert.ok(located.includes('mesh.yaml:4'), located.join(', '));
    assert.equal(await servedBy('/v2/items'), '200 v2', 'the last good routing still serves');
    const after = await dump();
    assert.equal(after.source, 'snapshot v12');
    assert.equal(after.version, good.version);
    assert.equal(after.lastReload.ok, false);
    assert.equal(after.lastReload.source, 'snapshot v13');
  });
});
