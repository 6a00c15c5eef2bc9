import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createLogger } from '../log.ts';
import { ConfigStore } from '../runtime/config-store.ts';
import { UpstreamPools } from '../upstream/pools.ts';
import { StaticDiscoverySource, type DiscoveredEndpoint } from './discovery-source.ts';

const log = createLogger('test', { level: 'error', write: () => undefined });
const pools = new UpstreamPools({ retireGraceMs: 0 });
const stores: ConfigStore[] = [];
after(async () => {
  for (const store of stores) store.close();
  await pools.destroy();
});

async function storeWithDiscovery(): Promise<{ store: ConfigStore; discovery: StaticDiscoverySource }> {
  const discovery = new StaticDiscoverySource();
  const store = new ConfigStore(undefined, { pools, localService: { name: 'frontend', namespace: 'default' }, appAddress: '127.0.0.1:9', log, discovery }, log);
  stores.push(store);
  assert.equal((await store.reload()).ok, true);
  return { store, discovery };
}

const at = (address: string, state: DiscoveredEndpoint['state'] = 'healthy'): DiscoveredEndpoint => ({ address, weight: 1, state });

const ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: catalog }
spec:
  parentRefs: [{ group: "", kind: Service, name: catalog }]
  rules: [{ backendRefs: [{ name: catalog-v2 }] }]
`;

test('a burst of discovery changes is applied once, within the batch window, keeping the generation', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { store, discovery } = await storeWithDiscovery();
  const generation = store.current.generation;
  for (let i = 1; i <= 10; i++) discovery.set('catalog.default', [at(`10.0.0.${i}:80`)]);
  assert.equal(store.current.services.has('catalog.default'), false, 'not before the window ends');
  t.mock.timers.tick(50);
  assert.deepEqual(
    store.current.services.get('catalog.default')?.endpoints.map((e) => e.address),
    ['10.0.0.10:80'],
  );
  assert.equal(store.current.generation, generation);
  assert.equal(store.discoveryStats?.rebuilds, 1);
  assert.equal(store.discoveryStats?.services, 1);
});

test('with discovery, pushed routes may name Services that only discovery knows, and new generations include them', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { store, discovery } = await storeWithDiscovery();
  discovery.set('catalog-v2.default', [at('10.0.2.1:80')]);
  t.mock.timers.tick(50);
  const status = await store.applyTexts([{ name: 'route.yaml', text: ROUTE }], 'snapshot v3');
  assert.deepEqual(status.errors, []);
  assert.equal(store.current.source, 'snapshot v3');
  assert.deepEqual(
    store.current.services.get('catalog-v2.default')?.endpoints.map((e) => [e.address, e.origin]),
    [['10.0.2.1:80', 'discovered']],
  );
  assert.ok(store.current.routeTables.has('catalog.default'));
});

test('a suspect flip rebuilds only that Service; the others stay the same objects', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { store, discovery } = await storeWithDiscovery();
  discovery.replaceAll([
    ['a.x', [at('10.0.3.1:80'), at('10.0.3.2:80')]],
    ['b.x', [at('10.0.4.1:80')]],
  ]);
  t.mock.timers.tick(50);
  const before = store.current;
  discovery.set('a.x', [at('10.0.3.1:80', 'suspect'), at('10.0.3.2:80')]);
  t.mock.timers.tick(50);
  const now = store.current;
  assert.notEqual(now, before);
  assert.notEqual(now.services.get('a.x'), before.services.get('a.x'));
  assert.equal(now.services.get('b.x'), before.services.get('b.x'));
  assert.equal(now.services.get('a.x')?.endpoints[0], before.services.get('a.x')?.endpoints[0]);
  assert.equal(now.services.get('a.x')?.endpoints[0]?.suspect, true);
});

test('after close, discovery changes are ignored', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { store, discovery } = await storeWithDiscovery();
  const before = store.current;
  store.close();
  discovery.set('a.x', [at('10.0.3.1:80')]);
  t.mock.timers.tick(100);
  assert.equal(store.current, before);
});
