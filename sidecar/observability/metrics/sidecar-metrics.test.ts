import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import { loadPolicyPath } from '../../../policy/load.ts';
import { createLogger } from '../../log.ts';
import { newRequestContext, type Direction, type RequestContext } from '../../pipeline/context.ts';
import type { ReasonFlag } from '../../http/reason.ts';
import { ConfigStore } from '../../runtime/config-store.ts';
import { UpstreamPools } from '../../upstream/pools.ts';
import { SidecarMetrics } from './sidecar-metrics.ts';
import { SourceNames } from './request-metrics.ts';
import { parseExposition, type Sample } from './test-support.ts';

function find(samples: Sample[], name: string, labels: Record<string, string>): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

const logger = createLogger('test', { level: 'error', write: () => undefined });
const dirs: string[] = [];
const stores: ConfigStore[] = [];
after(() => {
  for (const store of stores) store.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function storeWith(files: Record<string, string>): Promise<ConfigStore> {
  const dir = mkdtempSync(join(tmpdir(), 'outrigger-metrics-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const store = new ConfigStore(dir, { pools: new UpstreamPools(), localService: { name: 'frontend', namespace: 'default' }, appAddress: '127.0.0.1:9', log: logger }, logger);
  const status = await store.reload();
  assert.ok(status.ok, JSON.stringify(status.errors));
  stores.push(store);
  return store;
}

const CATALOG = `apiVersion: outrigger.dev/v1alpha1
kind: ServiceEndpoints
metadata: { name: catalog, namespace: default }
spec:
  endpoints: [{ address: "127.0.0.1:1" }, { address: "127.0.0.1:2" }]
---
apiVersion: outrigger.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: catalog }
spec:
  targetRefs: [{ group: "", kind: Service, name: catalog }]
  healthCheck: { passive: { consecutive5XxErrors: 3 } }
`;

function context(direction: Direction, headers: IncomingHttpHeaders = {}): RequestContext {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = '/';
  req.headers = { host: 'catalog', ...headers };
  const ctx = newRequestContext({ req, res: new ServerResponse(req), direction, path: '/', query: '', requestId: 'r', hasBody: false, exposeFlag: false });
  ctx.destination = direction === 'outbound' ? 'catalog.default' : 'frontend.default';
  return ctx;
}

function finish(metrics: SidecarMetrics, ctx: RequestContext, status: number, flag?: ReasonFlag, bytes = 0): void {
  const observe = metrics.observer();
  observe.onStart?.(ctx);
  ctx.bytesSent = bytes;
  if (flag) ctx.flag = flag;
  observe(ctx, { status, committed: true, flag });
}

describe('sidecar metrics', () => {
  test('Istio naming: request counts, durations and bytes by reporter, source, destination, code and flag', async () => {
    const metrics = new SidecarMetrics({ source: await storeWith({ 'catalog.yaml': CATALOG }), service: 'frontend', namespace: 'default', processMetrics: false });
    for (let i = 0; i < 3; i++) {
      const ctx = context('outbound', { 'content-length': '100' });
      ctx.routeName = 'default/catalog/0';
      finish(metrics, ctx, 200, undefined, 2_000);
    }
    finish(metrics, context('outbound'), 502, 'UF', 40);
    finish(metrics, context('inbound', { 'x-outrigger-source': 'checkout.shop' }), 200);
    finish(metrics, context('inbound', { 'x-outrigger-source': 'Not A Service {}' }), 200);

    const samples = parseExposition(await metrics.metrics());
    const ok = find(samples, 'istio_requests_total', { reporter: 'source', response_code: '200' });
    assert.equal(ok.length, 1);
    assert.deepEqual(ok[0]!.labels, {
      reporter: 'source',
      source_workload: 'frontend',
      source_workload_namespace: 'default',
      destination_service: 'catalog.default',
      destination_service_name: 'catalog',
      destination_service_namespace: 'default',
      response_code: '200',
      response_flags: '-',
      route: 'default/catalog/0',
    });
    assert.equal(ok[0]!.value, 3);
    assert.equal(find(samples, 'istio_requests_total', { reporter: 'source', response_code: '502', response_flags: 'UF', route: '' })[0]?.value, 1);
    assert.equal(find(samples, 'istio_requests_total', { reporter: 'destination', source_workload: 'checkout', source_workload_namespace: 'shop' })[0]?.value, 1);
    assert.equal(find(samples, 'istio_requests_total', { reporter: 'destination', source_workload: 'unknown' })[0]?.value, 1, 'a malformed source header counts as unknown');

    const durationCount = find(samples, 'istio_request_duration_milliseconds_count', { reporter: 'source', response_code: '200' });
    assert.equal(durationCount[0]?.value, 3);
    const les = find(samples, 'istio_request_duration_milliseconds_bucket', { reporter: 'source', response_code: '200' }).map((s) => s.labels.le);
    assert.deepEqual(les, ['0.5', '1', '5', '10', '25', '50', '100', '250', '500', '1000', '2500', '5000', '10000', '30000', '60000', '300000', '600000', '1800000', '3600000', '+Inf']);
    assert.equal(find(samples, 'istio_request_bytes_sum', { reporter: 'source', response_code: '200' })[0]?.value, 300);
    assert.equal(find(samples, 'istio_request_bytes_bucket', { reporter: 'source', response_code: '200', le: '100' })[0]?.value, 3);
    assert.equal(find(samples, 'istio_response_bytes_sum', { reporter: 'source', response_code: '200' })[0]?.value, 6_000);
    assert.equal(find(samples, 'istio_response_bytes_bucket', { reporter: 'source', response_code: '200', le: '1000' })[0]?.value, 0);
    assert.equal(find(samples, 'istio_response_bytes_bucket', { reporter: 'source', response_code: '200', le: '2500' })[0]?.value, 3);
    assert.equal(samples.filter((s) => /^outrigger_(requests_total|request_|response_)/.test(s.name)).length, 0, 'only the configured naming');
    assert.deepEqual(find(samples, 'outrigger_requests_in_flight', {}).map((s) => s.value), [0, 0]);
  });

  test('in-flight gauge counts requests between start and finish', async () => {
    const metrics = new SidecarMetrics({ source: await storeWith({ 'catalog.yaml': CATALOG }), service: 'frontend', namespace: 'default', processMetrics: false });
    const observe = metrics.observer();
    const a = context('outbound');
    const b = context('outbound');
    observe.onStart?.(a);
    observe.onStart?.(b);
    observe.onStart?.(context('inbound'));
    observe(a, { status: 200, committed: true });
    const samples = parseExposition(await metrics.metrics());
    assert.equal(find(samples, 'outrigger_requests_in_flight', { direction: 'outbound' })[0]?.value, 1);
    assert.equal(find(samples, 'outrigger_requests_in_flight', { direction: 'inbound' })[0]?.value, 1);
  });

  test('the observer chains to the next observer (the access log)', async () => {
    const metrics = new SidecarMetrics({ source: await storeWith({ 'catalog.yaml': CATALOG }), service: 'frontend', namespace: 'default', processMetrics: false });
    const seen: string[] = [];
    const next = Object.assign((ctx: RequestContext) => void seen.push(`end ${ctx.direction}`), { onStart: (ctx: RequestContext) => void seen.push(`start ${ctx.direction}`) });
    const observe = metrics.observer(next);
    const ctx = context('inbound');
    observe.onStart?.(ctx);
    observe(ctx, { status: 204, committed: true });
    assert.deepEqual(seen, ['start inbound', 'end inbound']);
    assert.equal(find(parseExposition(await metrics.metrics()), 'istio_requests_total', { response_code: '204' })[0]?.value, 1);
  });

  test('state metrics: config info, breaker state, endpoints, ejections, retries, overflows', async () => {
    const store = await storeWith({ 'catalog.yaml': CATALOG });
    const metrics = new SidecarMetrics({ source: store, service: 'frontend', namespace: 'default', processMetrics: false });
    const samples = parseExposition(await metrics.metrics());
    const catalog = { service: 'catalog.default', direction: 'outbound' };
    assert.deepEqual(find(samples, 'outrigger_config_info', {}).map((s) => [s.labels.version, s.value]), [[store.current.version, 1]]);
    assert.equal(find(samples, 'outrigger_config_generation', {})[0]?.value, 1);
    assert.equal(find(samples, 'outrigger_config_reload_failures_total', {})[0]?.value, 0);
    assert.equal(find(samples, 'outrigger_circuit_breaker_state', catalog)[0]?.value, 0);
    assert.equal(find(samples, 'outrigger_endpoints', { ...catalog, health: 'healthy' })[0]?.value, 2);
    assert.equal(find(samples, 'outrigger_ejected_endpoints', catalog)[0]?.value, 0);
    assert.equal(find(samples, 'outrigger_ejections_total', catalog)[0]?.value, 0);
    assert.equal(find(samples, 'outrigger_retries_total', catalog)[0]?.value, 0);
    assert.equal(find(samples, 'outrigger_retry_budget_exhausted_total', catalog)[0]?.value, 0);
    assert.deepEqual(find(samples, 'outrigger_overflow_total', catalog).map((s) => s.labels.limit), ['requests', 'pending', 'retries']);
    assert.equal(find(samples, 'outrigger_retries_total', { service: 'frontend.default', direction: 'inbound' }).length, 1, 'the local app is listed as inbound');

    // Counters are read at scrape time from the runtime's own totals.
    const service = store.current.services.get('catalog.default')!;
    service.retryBudget.recordRetry();
    service.retryBudget.recordRetry();
    service.retryBudget.recordExhausted();
    service.endpoints[0]!.healthy = false;
    const again = parseExposition(await metrics.metrics());
    assert.equal(find(again, 'outrigger_endpoints', { ...catalog, health: 'unhealthy' })[0]?.value, 1);
    assert.equal(find(again, 'outrigger_retries_total', catalog)[0]?.value, 2);
    assert.equal(find(again, 'outrigger_retry_budget_exhausted_total', catalog)[0]?.value, 1);
    service.endpoints[0]!.healthy = true;
  });

  test('Outrigger naming: outrigger_* request metrics with a direction label', async () => {
    const store = await storeWith({
      'catalog.yaml': CATALOG,
      'mesh.yaml': 'apiVersion: outrigger.dev/v1alpha1\nkind: Mesh\nmetadata: { name: mesh }\nspec:\n  metrics: { naming: Outrigger }\n',
    });
    const metrics = new SidecarMetrics({ source: store, service: 'frontend', namespace: 'default', processMetrics: false });
    finish(metrics, context('outbound'), 200);
    const samples = parseExposition(await metrics.metrics());
    assert.equal(find(samples, 'outrigger_requests_total', { direction: 'outbound', destination_service: 'catalog.default' })[0]?.value, 1);
    assert.equal(find(samples, 'outrigger_request_duration_milliseconds_count', { direction: 'outbound' })[0]?.value, 1);
    assert.equal(samples.filter((s) => s.name.startsWith('istio_')).length, 0);
  });

  test('process metrics and the registry are per sidecar, never the global registry', async () => {
    const store = await storeWith({ 'catalog.yaml': CATALOG });
    const metrics = new SidecarMetrics({ source: store, service: 'frontend', namespace: 'default' });
    const names = new Set(parseExposition(await metrics.metrics()).map((s) => s.name));
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) assert.ok(names.has(name), name);
    assert.equal(globalRegistry.getSingleMetric('istio_requests_total'), undefined);
    assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
  });

  test('spans lost to a dead or slow collector are counted', async () => {
    const store = await storeWith({ 'catalog.yaml': CATALOG });
    const tracing = { stats: () => ({ exported: 7, failed: 3, dropped: 2, queued: 1 }) };
    const metrics = new SidecarMetrics({ source: store, service: 'frontend', namespace: 'default', processMetrics: false, tracing });
    const samples = parseExposition(await metrics.metrics());
    assert.equal(find(samples, 'outrigger_tracing_spans_total', { outcome: 'exported' })[0]?.value, 7);
    assert.equal(find(samples, 'outrigger_tracing_spans_total', { outcome: 'failed' })[0]?.value, 3);
    assert.equal(find(samples, 'outrigger_tracing_spans_total', { outcome: 'dropped' })[0]?.value, 2);
  });
});

describe('metrics config', () => {
  test('naming defaults to Istio; unknown keys and values are rejected with their field path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outrigger-metrics-schema-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'mesh.yaml'), 'apiVersion: outrigger.dev/v1alpha1\nkind: Mesh\nmetadata: { name: mesh }\nspec: {}\n');
    const ok = await loadPolicyPath(dir);
    assert.ok(ok.ok);
    assert.equal(ok.policy.mesh?.resource.spec.metrics.naming, 'Istio');
    writeFileSync(join(dir, 'mesh.yaml'), 'apiVersion: outrigger.dev/v1alpha1\nkind: Mesh\nmetadata: { name: mesh }\nspec:\n  metrics: { naming: Linkerd, port: 9090 }\n');
    const bad = await loadPolicyPath(dir);
    assert.ok(!bad.ok);
    const paths = bad.errors.map((e) => e.path).join(' ');
    assert.match(paths, /spec\.metrics/);
  });
});

describe('SourceNames', () => {
  test('accepts well-formed name.namespace values up to a limit, then unknown', () => {
    const names = new SourceNames(2);
    assert.equal(names.resolve('a.default'), 'a.default');
    assert.equal(names.resolve(['a.default', 'b.default']), 'unknown');
    assert.equal(names.resolve(undefined), 'unknown');
    assert.equal(names.resolve('UPPER.case'), 'unknown');
    assert.equal(names.resolve('no-namespace'), 'unknown');
    assert.equal(names.resolve('b.default'), 'b.default');
    assert.equal(names.resolve('c.default'), 'unknown', 'over the limit');
    assert.equal(names.resolve('a.default'), 'a.default', 'known names stay');
  });
});
