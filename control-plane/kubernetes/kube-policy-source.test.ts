import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../mesh/log.ts';
import { loadPolicyTexts } from '../../policy/load.ts';
import { generateSigningKeys } from '../../policy/snapshot/keys.ts';
import { startControlPlane } from '../control-plane.ts';
import { KubePolicySource } from './kube-policy-source.ts';

/**
 * A stand-in for the Kubernetes API server's list and watch endpoints (no cluster runs here): each resource path
 * answers a list, or with `?watch=true` keeps the response open and streams the events the test sends.
 */
class ApiServerStandIn {
  readonly server: Server;
  private readonly items = new Map<string, Map<string, object>>();
  private readonly watchers = new Map<string, Set<ServerResponse>>();
  readonly missing = new Set<string>();
  private version = 1;

  constructor() {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname;
      if (this.missing.has(path)) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'the server could not find the requested resource' }));
        return;
      }
      const items = [...(this.items.get(path)?.values() ?? [])];
      res.writeHead(200, { 'content-type': 'application/json' });
      if (url.searchParams.get('watch') === 'true') {
        const set = this.watchers.get(path) ?? new Set();
        set.add(res);
        this.watchers.set(path, set);
        res.on('close', () => set.delete(res));
        res.flushHeaders();
        return;
      }
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: String(this.version) }, items }));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  put(path: string, object: { metadata: { name: string; namespace?: string } }, type: 'ADDED' | 'MODIFIED' = 'ADDED'): void {
    const withVersion = { ...object, metadata: { ...object.metadata, resourceVersion: String(++this.version) } };
    const map = this.items.get(path) ?? new Map<string, object>();
    map.set(`${object.metadata.namespace}/${object.metadata.name}`, withVersion);
    this.items.set(path, map);
    for (const res of this.watchers.get(path) ?? []) res.write(`${JSON.stringify({ type, object: withVersion })}\n`);
  }

  close(): Promise<void> {
    for (const set of this.watchers.values()) for (const res of set) res.destroy();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

const ROUTES = '/apis/gateway.networking.k8s.io/v1/httproutes';
const POLICIES = '/apis/outrigger.dev/v1alpha1/trafficpolicies';
const SIGNALS = '/apis/outrigger.dev/v1alpha1/autoscalingsignals';
const SLICES = '/apis/discovery.k8s.io/v1/endpointslices';

function meshRoute(name: string): { apiVersion: string; kind: string; metadata: { name: string; namespace: string }; spec: object } {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'shop' },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: 'catalog' }], rules: [{ backendRefs: [{ name: 'catalog', port: 80 }] }] },
  };
}

function slice(ready: string[], notReady: string[]): { apiVersion: string; kind: string; metadata: { name: string; namespace: string; labels: Record<string, string> }; addressType: string; endpoints: object[]; ports: object[] } {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'catalog-abcde', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'catalog' } },
    addressType: 'IPv4',
    endpoints: [
      ...ready.map((ip) => ({ addresses: [ip], conditions: { ready: true }, zone: 'z1' })),
      ...notReady.map((ip) => ({ addresses: [ip], conditions: { ready: false } })),
    ],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

function kubeConfigFor(server: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'stand-in', server, skipTLSVerify: true }],
    users: [{ name: 'test', token: 'test-token' }],
    contexts: [{ name: 'test', cluster: 'stand-in', user: 'test' }],
    currentContext: 'test',
  });
  return config;
}

const quiet = createLogger('test', { level: 'error', write: () => {} });
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('mesh routes, policies and ready endpoints from the cluster become valid policy files, kept current by watches', async () => {
  const api = new ApiServerStandIn();
  const url = await api.listen();
  cleanups.push(() => api.close());
  api.put(ROUTES, meshRoute('catalog'));
  api.put(ROUTES, { ...meshRoute('edge'), spec: { parentRefs: [{ name: 'public-gateway' }], rules: [{}] } } as ReturnType<typeof meshRoute>);
  api.put(SLICES, slice(['10.0.0.1', '10.0.0.2'], ['10.0.0.3']));
  api.missing.add(POLICIES);
  api.put(SIGNALS, { apiVersion: 'outrigger.dev/v1alpha1', kind: 'AutoscalingSignal', metadata: { name: 'catalog', namespace: 'shop' }, spec: { targetRef: { kind: 'Service', name: 'catalog' }, metrics: [{ name: 'concurrency', target: { averageValue: 10 } }] } } as never);

  let changes = 0;
  const source = new KubePolicySource({ kubeConfig: kubeConfigFor(url), onChange: () => changes++, log: quiet, retryMs: 100 });
  cleanups.push(() => source.close());
  await source.start();

  const names = source.files().map((f) => f.name);
  assert.deepEqual(names, ['kubernetes/AutoscalingSignal/shop/catalog.yaml', 'kubernetes/EndpointSlice/shop/catalog.yaml', 'kubernetes/HTTPRoute/shop/catalog.yaml'], 'the Gateway-only route is left to its gateway');
  const loaded = loadPolicyTexts(source.files().map((f) => ({ file: f.name, text: f.text })));
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.errors));
  assert.deepEqual(loaded.policy.endpoints[0]?.resource.spec.endpoints.map((e) => e.address), ['10.0.0.1:8080', '10.0.0.2:8080']);

  const before = changes;
  api.put(SLICES, slice(['10.0.0.1', '10.0.0.2', '10.0.0.3'], []), 'MODIFIED');
  await until(() => changes > before && source.files().some((f) => f.text.includes('10.0.0.3')), 'the watch event');

  // A CRD installed after the control plane started: its watch is retried until it answers.
  api.missing.delete(POLICIES);
  api.put(POLICIES, { apiVersion: 'outrigger.dev/v1alpha1', kind: 'TrafficPolicy', metadata: { name: 'catalog', namespace: 'shop' }, spec: { targetRefs: [{ kind: 'Service', name: 'catalog' }] } } as never);
  await until(() => source.files().some((f) => f.name === 'kubernetes/TrafficPolicy/shop/catalog.yaml'), 'the retried TrafficPolicy watch');
});

test('the control plane signs what the cluster holds into the same snapshot as its folder, and re-signs on a watch event', async () => {
  const api = new ApiServerStandIn();
  const url = await api.listen();
  cleanups.push(() => api.close());
  api.put(ROUTES, meshRoute('catalog'));
  api.put(SLICES, slice(['10.0.0.1'], []));
  const folder = mkdtempSync(join(tmpdir(), 'outrigger-kube-folder-'));
  writeFileSync(join(folder, 'mesh.yaml'), 'apiVersion: outrigger.dev/v1alpha1\nkind: Mesh\nmetadata:\n  name: mesh\nspec: {}\n');
  const controlPlane = await startControlPlane({
    name: 'cp-kube',
    configDir: folder,
    signingKey: createPrivateKey(generateSigningKeys().privateKeyPem),
    gossipHost: '127.0.0.1',
    gossipPort: 0,
    join: [],
    apiHost: '127.0.0.1',
    apiPort: 0,
    kubeConfig: kubeConfigFor(url),
    logLevel: 'error',
  });
  cleanups.push(() => controlPlane.close());
  const snapshot = async (): Promise<{ version: number; files: { name: string }[] }> => (await fetch(`http://127.0.0.1:${controlPlane.apiPort}/snapshot`)).json() as Promise<{ version: number; files: { name: string }[] }>;
  const first = await snapshot();
  assert.deepEqual(first.files.map((f) => f.name).sort(), ['kubernetes/EndpointSlice/shop/catalog.yaml', 'kubernetes/HTTPRoute/shop/catalog.yaml', 'mesh.yaml']);
  api.put(SLICES, slice(['10.0.0.1', '10.0.0.2'], []), 'MODIFIED');
  let latest = first;
  const deadline = Date.now() + 5_000;
  while (latest.version === first.version && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    latest = await snapshot();
  }
  assert.ok(latest.version > first.version, 'a new snapshot version after the EndpointSlice changed');
});
