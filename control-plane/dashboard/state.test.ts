import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { MemberStatusRow } from '../../mesh/member-status.ts';
import { encodeMemberMeta } from '../../mesh/member-meta.ts';
import { aggregateEdges, aggregateSignals, aggregateUpstreamHealth } from '../../mesh/signals-aggregate.ts';
import { newLatencyCounts, recordLatency } from '../../mesh/signals-histogram.ts';
import type { SignalReport, WindowSignals } from '../../mesh/signals-report.ts';
import { createDashboardRoutes } from './routes.ts';
import { buildDashboardState } from './state.ts';

function row(name: string, patch: Partial<MemberStatusRow>): MemberStatusRow {
  return { name, role: 'sidecar', status: 'alive', gossipAddress: '127.0.0.1:1', service: undefined, address: undefined, zone: undefined, configVersion: 3, configHash: 'abcdef0123456789', sync: 'synced', error: undefined, api: undefined, ...patch };
}

function window(durationMs: number, n: number, errors: number, from?: string): WindowSignals {
  const latency = newLatencyCounts();
  for (let i = 0; i < n; i++) recordLatency(latency, i < n * 0.9 ? 5 : 50);
  return { durationMs, requests: n, errors, concurrency: 0.5, peakConcurrency: 2, latency, ...(from && n > 0 ? { sources: { [from]: { requests: n, errors } } } : {}) };
}

const catalog: SignalReport = { service: 'catalog.default', member: 'catalog-1', at: 1, intervalMs: 2000, windows: { stable: window(60_000, 600, 6, 'frontend.default'), panic: window(6000, 0, 0) } };
const frontend: SignalReport = { service: 'frontend.default', member: 'frontend-1', at: 1, intervalMs: 2000, windows: { stable: window(60_000, 0, 0), panic: window(6000, 0, 0) } };
const members = [
  row('cp', { role: 'control-plane', configVersion: 3 }),
  row('catalog-1', { service: 'catalog.default', zone: 'a' }),
  row('catalog-2', { service: 'catalog.default', status: 'dead', configVersion: 2, sync: 'stale' }),
  row('frontend-1', { service: 'frontend.default', sync: 'rejected', error: 'routes.yaml:3:1: bad' }),
  row('orders-1', { service: 'orders.default' }),
];

function input(): Parameters<typeof buildDashboardState>[0] {
  const reports = [catalog, frontend];
  return {
    reporter: 'cp',
    now: 42,
    members,
    policyError: undefined,
    signals: reports.map((r) => ({ stable: aggregateSignals(r.service, 'stable', [r]), panic: aggregateSignals(r.service, 'panic', [r]) })),
    edges: { stable: aggregateEdges('stable', reports), panic: aggregateEdges('panic', reports) },
  };
}

describe('buildDashboardState', () => {
  it('lists every Service, reporting or only advertised, with golden signals per window', () => {
    const state = buildDashboardState(input());
    assert.deepEqual(state.services.map((s) => [s.service, s.sidecars.alive, s.sidecars.total]), [['catalog.default', 1, 2], ['frontend.default', 1, 1], ['orders.default', 1, 1]]);
    const stable = state.services[0]!.windows.stable!;
    assert.equal(stable.rps, 10);
    assert.equal(stable.successRate, 0.99);
    assert.equal(stable.errorRate, 0.01);
    assert.ok(stable.p50Ms > 4 && stable.p50Ms < 6);
    assert.ok(stable.p95Ms > 45 && stable.p99Ms > 45);
    assert.equal(state.services[0]!.windows.panic!.successRate, null, 'no requests: no success rate, not 100 %');
    assert.equal(state.services[2]!.windows.stable, null, 'advertised but not reporting');
    assert.equal(JSON.stringify(state).includes('latency"'), false, 'no histograms on the wire');
  });

  it('gives edges per window and members with gossip state and sync', () => {
    const state = buildDashboardState(input());
    assert.deepEqual(state.edges.stable, [{ from: 'frontend.default', to: 'catalog.default', requests: 600, rps: 10, errorRate: 0.01 }]);
    assert.deepEqual(state.edges.panic, []);
    assert.deepEqual(state.members.map((m) => [m.name, m.status, m.sync]), members.map((m) => [m.name, m.status, m.sync]));
    assert.equal(state.members[3]!.error, 'routes.yaml:3:1: bad');
    assert.equal(state.members[0]!.configHash, 'abcdef012345');
    assert.deepEqual(state.summary, { members: 5, alive: 4, synced: 3, stale: 1, rejected: 1, services: 3, edges: 1 });
    assert.deepEqual(state.config, { version: 3, hash: 'abcdef012345', policyError: null });
    assert.equal(state.generatedAt, 42);
  });

  it('degrades to an empty but complete state with no data', () => {
    const state = buildDashboardState({ reporter: 'cp', now: 0, members: [], policyError: 'x.yaml:1:1: nope', signals: [], edges: { stable: [], panic: [] } });
    assert.deepEqual(state.services, []);
    assert.deepEqual(state.members, []);
    assert.deepEqual(state.edges, { stable: [], panic: [] });
    assert.equal(state.config.version, 0);
    assert.equal(state.config.policyError, 'x.yaml:1:1: nope');
  });

  it('adds a callee only known from an edge', () => {
    const edges = { stable: [{ from: 'other', to: 'billing.shop', window: 'stable' as const, requests: 1, errors: 0, rps: 1, errorRate: 0 }], panic: [] };
    const state = buildDashboardState({ reporter: 'cp', now: 0, members: [], policyError: undefined, signals: [], edges });
    assert.deepEqual(state.services.map((s) => s.service), ['billing.shop']);
  });

  it('gives each Service its ejected endpoints with who ejected them, and its callers\' circuits', () => {
    const reports: SignalReport[] = [
      { ...frontend, upstreams: [{ service: 'catalog.default', ejected: ['127.0.0.1:18023'], circuit: 'closed' }, { service: 'payments.default', ejected: [], circuit: 'open' }] },
      { ...frontend, member: 'frontend-2', upstreams: [{ service: 'catalog.default', ejected: ['127.0.0.1:18023', '127.0.0.1:18024'], circuit: 'half-open' }] },
    ];
    const state = buildDashboardState({ ...input(), health: aggregateUpstreamHealth(reports) });
    const catalog = state.services.find((s) => s.service === 'catalog.default')!;
    assert.deepEqual(catalog.ejectedEndpoints, [
      { address: '127.0.0.1:18023', members: ['frontend-1', 'frontend-2'] },
      { address: '127.0.0.1:18024', members: ['frontend-2'] },
    ]);
    assert.deepEqual(catalog.circuits, { 'frontend-1': 'closed', 'frontend-2': 'half-open' });
    const payments = state.services.find((s) => s.service === 'payments.default')!;
    assert.deepEqual([payments.circuits, payments.ejectedEndpoints, payments.windows.stable], [{ 'frontend-1': 'open' }, [], null], 'a Service known only from its callers\' health');
    const orders = state.services.find((s) => s.service === 'orders.default')!;
    assert.deepEqual([orders.ejectedEndpoints, orders.circuits], [[], {}], 'healthy by default');
    assert.deepEqual(buildDashboardState(input()).services.map((s) => s.ejectedEndpoints.length + Object.keys(s.circuits).length), [0, 0, 0], 'none without health');
  });
});

describe('createDashboardRoutes', () => {
  it('serves the page, its files with types and validators, the state, and leaves other paths alone', async () => {
    const meta = encodeMemberMeta({ role: 'sidecar', service: 'catalog.default', configVersion: 1, configHash: 'h' });
    const routes = createDashboardRoutes({
      name: 'cp',
      member: { memberlist: { allMembers: () => [{ name: 'catalog-1', addr: '127.0.0.1:1', incarnation: 1, status: 'alive', meta, statusChangedAt: 0 }] } },
      collector: { services: () => [], aggregate: () => undefined, edges: () => [], upstreamHealth: () => [{ service: 'catalog.default', ejected: [{ address: '127.0.0.1:9', members: ['frontend-1'] }], circuits: { 'frontend-1': 'open' } }] },
      lastBuildError: () => undefined,
    });
    const server = createServer((req, res) => {
      if (!routes(req, res)) res.writeHead(418).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const get = (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> =>
      new Promise((resolve, reject) => {
        request({ host: '127.0.0.1', port, path, headers, method }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        }).on('error', reject).end();
      });
    try {
      const page = await get('/');
      assert.equal(page.status, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
      assert.match(page.body, /dashboard\.js/);
      assert.doesNotMatch(page.body, /https?:\/\/(?!www\.w3\.org)/, 'nothing from another origin');
      const js = await get('/dashboard/dashboard.js');
      assert.match(String(js.headers['content-type']), /^text\/javascript/);
      assert.equal(js.headers['cache-control'], 'no-cache');
      assert.equal((await get('/dashboard/dashboard.js', { 'if-none-match': String(js.headers['etag']) })).status, 304);
      assert.match(String((await get('/dashboard/dashboard.css')).headers['content-type']), /^text\/css/);
      const state = await get('/dashboard/api/state');
      assert.equal(state.headers['cache-control'], 'no-store');
      const body = JSON.parse(state.body) as { reporter: string; services: { service: string }[]; members: { name: string }[] };
      assert.equal(body.reporter, 'cp');
      assert.deepEqual(body.services.map((s) => s.service), ['catalog.default']);
      assert.deepEqual((body.services[0] as unknown as { circuits: unknown }).circuits, { 'frontend-1': 'open' });
      // Only the three files are ever served: a path that climbs out is normalised away, never read from disk.
      assert.equal((await get('/dashboard/../package.json')).status, 418);
      assert.equal((await get('/dashboard/static/../routes.ts')).status, 404);
      assert.equal((await get('/dashboard/secret.txt')).status, 404);
      assert.equal((await get('/dashboard/api/state', {}, 'POST')).status, 405);
      assert.equal((await get('/members')).status, 418);
    } finally {
      server.close();
    }
  });
});
