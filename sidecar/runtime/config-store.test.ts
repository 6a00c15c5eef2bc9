import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createLogger } from '../log.ts';
import { UpstreamPools } from '../upstream/pools.ts';
import { ConfigStore, NO_CONFIG_SOURCE } from './config-store.ts';

const log = createLogger('test', { level: 'error', write: () => undefined });
const stores: ConfigStore[] = [];
const dirs: string[] = [];
const pools = new UpstreamPools({ retireGraceMs: 0 });
after(async () => {
  for (const store of stores) store.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await pools.destroy();
});

function storeAt(path: string | undefined): ConfigStore {
  const store = new ConfigStore(path, { pools, localService: { name: 'frontend', namespace: 'default' }, appAddress: '127.0.0.1:9', log }, log);
  stores.push(store);
  return store;
}

const endpoints = (name: string, address: string): string => `apiVersion: outrigger.dev/v1alpha1
kind: ServiceEndpoints
metadata: { name: ${name} }
spec:
  endpoints: [{ address: "${address}" }]
`;
const addresses = (store: ConfigStore, key: string): string[] | undefined => store.current.services.get(key)?.endpoints.map((e) => e.address);

describe('ConfigStore without a path', () => {
  test('starts on the empty policy; only the inbound runtime exists', async () => {
    const store = storeAt(undefined);
    const status = await store.reload();
    assert.equal(status.ok, true);
    assert.equal(store.current.source, NO_CONFIG_SOURCE);
    assert.equal(store.current.generation, 1);
    assert.equal(store.current.services.size, 0);
    assert.equal(store.current.inbound.endpoints[0]?.address, '127.0.0.1:9');
    assert.equal((await store.reload()).ok, true);
    assert.equal(store.current.generation, 1, 'reloading without a path changes nothing');
  });

  test('applyTexts swaps in valid config, labelled, and rejects invalid config with file and line while the old serves', async () => {
    const store = storeAt(undefined);
    await store.reload();
    const ok = await store.applyTexts([{ name: 'catalog.yaml', text: endpoints('catalog', '10.0.0.1:80') }], 'snapshot v1');
    assert.deepEqual({ ok: ok.ok, source: ok.source, errors: ok.errors }, { ok: true, source: 'snapshot v1', errors: [] });
    assert.equal(store.current.source, 'snapshot v1');
    assert.equal(store.current.generation, 2);
    assert.deepEqual(addresses(store, 'catalog.default'), ['10.0.0.1:80']);

    const bad = await store.applyTexts(
      [
        { name: 'catalog.yaml', text: `${endpoints('catalog', '10.0.0.2:80')}  wieght: 3\n` },
        { name: 'other.yaml', text: 'kind: [unclosed\n' },
      ],
      'snapshot v2',
    );
    assert.equal(bad.ok, false);
    assert.equal(bad.source, 'snapshot v2');
    assert.deepEqual(
      bad.errors.map((e) => e.file),
      ['catalog.yaml', 'other.yaml'],
    );
    assert.equal(bad.errors[0]!.line, 6);
    assert.match(bad.errors[0]!.message, /wieght/);
    assert.equal(store.reloadFailures, 1);
    assert.equal(store.lastStatus, bad);
    assert.equal(store.current.source, 'snapshot v1');
    assert.deepEqual(addresses(store, 'catalog.default'), ['10.0.0.1:80']);
  });

  test('pushes apply in call order; the same content under a new label only relabels', async () => {
    const store = storeAt(undefined);
    await store.reload();
    const first = store.applyTexts([{ name: 'a.yaml', text: endpoints('catalog', '10.0.0.1:80') }], 'snapshot v1');
    const second = store.applyTexts([{ name: 'a.yaml', text: endpoints('catalog', '10.0.0.2:80') }], 'snapshot v2');
    await Promise.all([first, second]);
    assert.deepEqual(addresses(store, 'catalog.default'), ['10.0.0.2:80']);
    const generation = store.current.generation;
    await store.applyTexts([{ name: 'renamed.yaml', text: endpoints('catalog', '10.0.0.2:80') }], 'snapshot v3');
    assert.equal(store.current.generation, generation);
    assert.equal(store.current.source, 'snapshot v3');
  });

  test('two pushed files of one name are refused', async () => {
    const store = storeAt(undefined);
    await store.reload();
    const status = await store.applyTexts(
      [
        { name: 'a.yaml', text: '' },
        { name: 'a.yaml', text: '' },
      ],
      'snapshot v1',
    );
    assert.equal(status.ok, false);
    assert.match(status.errors[0]!.message, /more than one pushed file/);
  });

  test('without a discovery source, backends still need ServiceEndpoints, as with a path', async () => {
    const store = storeAt(undefined);
    await store.reload();
    const status = await store.applyTexts(
      [
        {
          name: 'route.yaml',
          text: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r }
spec:
  parentRefs: [{ group: "", kind: Service, name: catalog }]
  rules: [{ backendRefs: [{ name: nowhere }] }]
`,
        },
      ],
      'snapshot v1',
    );
    assert.equal(status.ok, false);
  });
});

describe('ConfigStore with a path and pushes', () => {
  test('the source names the path; a push replaces it, and unchanged files do not take over again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outrigger-store-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'a.yaml'), endpoints('catalog', '10.0.0.1:80'));
    const store = storeAt(dir);
    assert.equal((await store.reload()).ok, true);
    assert.equal(store.current.source, dir);
    await store.applyTexts([{ name: 'a.yaml', text: endpoints('catalog', '10.0.0.2:80') }], 'snapshot v7');
    assert.equal(store.current.source, 'snapshot v7');
    await store.reload();
    assert.deepEqual(addresses(store, 'catalog.default'), ['10.0.0.2:80'], 'a spurious watch event must not undo the push');
    writeFileSync(join(dir, 'a.yaml'), endpoints('catalog', '10.0.0.3:80'));
    await store.reload();
    assert.equal(store.current.source, dir);
    assert.deepEqual(addresses(store, 'catalog.default'), ['10.0.0.3:80']);
  });
});
