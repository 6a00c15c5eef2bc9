import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { getJson, send } from './support/client.ts';
import { startOtlpGrpcReceiver } from './support/otlp-grpc-receiver.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.ts';
import { endpointsYaml, startSidecarProcess, writeConfig, type SidecarProcess } from './support/sidecar-process.ts';
import { echo, startUpstream, type TestUpstream } from './support/upstream.ts';

/** Export every 50 ms instead of every second, so the test does not wait. */
const FAST_EXPORT = { OTEL_BSP_SCHEDULE_DELAY: '50' };

function meshYaml(tracing: string): string {
  return `apiVersion: outrigger.dev/v1alpha1
kind: Mesh
metadata: { name: mesh }
spec:
  tracing:
${tracing.replace(/^/gm, '    ')}
`;
}

const RETRY_POLICY = `apiVersion: outrigger.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: catalog }
spec:
  targetRefs: [{ group: "", kind: Service, name: catalog }]
  retry: { numRetries: 2, retryOn: { triggers: [5xx] }, perRetry: { backOff: { baseInterval: 10ms, maxInterval: 20ms } } }
  healthCheck: { passive: { consecutive5XxErrors: 0, consecutiveGatewayErrors: 0 } }
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TRACE_ID = /^[0-9a-f]{32}$/;

describe('OpenTelemetry tracing across two sidecars, exported over OTLP/HTTP', () => {
  let receiver: OtlpReceiver;
  let catalogApp: TestUpstream;
  let frontendApp: TestUpstream;
  let catalog: SidecarProcess;
  let frontend: SidecarProcess;
  let frontendConfig: string;

  before(async () => {
    receiver = await startOtlpReceiver();
    // Fails the first request on each /flaky/ path with 503, so the frontend sidecar retries it.
    const seen = new Set<string>();
    catalogApp = await startUpstream((req, res) => {
      const url = req.url ?? '';
      if (url.startsWith('/flaky/') && !seen.has(url)) {
        seen.add(url);
        req.resume();
        res.writeHead(503, { 'content-type': 'text/plain' }).end('try again');
        return;
      }
      echo(req, res);
    }, 'catalog-app');
    frontendApp = await startUpstream(echo, 'frontend-app');
    const tracing = meshYaml(`enabled: true\nsampling: { percentage: 100 }\notlp: { endpoint: "${receiver.endpoint}" }`);
    catalog = await startSidecarProcess({ service: 'catalog', app: catalogApp.address, config: writeConfig({ 'mesh.yaml': tracing }), env: FAST_EXPORT });
    frontendConfig = writeConfig({ 'catalog.yaml': endpointsYaml('catalog', [`127.0.0.1:${catalog.inboundPort}`]), 'policy.yaml': RETRY_POLICY, 'mesh.yaml': tracing });
    frontend = await startSidecarProcess({ service: 'frontend', app: frontendApp.address, config: frontendConfig, env: FAST_EXPORT });
  });

  after(async () => {
    for (const s of [frontend, catalog]) await s?.stop();
    for (const u of [frontendApp, catalogApp]) await u?.close();
    await receiver?.close();
  });

  const byPath = (spans: ReceivedSpan[], path: string) => spans.filter((s) => s.attributes['url.path'] === path);
  const lastRequestTo = (app: TestUpstream, url: string) => [...app.requests].reverse().find((r) => r.url === url);

  test('a retried request is one trace: request span, two attempt spans, and the next sidecar under the attempt that reached it', async () => {
    const res = await send(frontend.outboundPort, { path: '/flaky/1', headers: { host: 'catalog' } });
    assert.equal(res.status, 200);
    // frontend: request + 2 attempts; catalog: 2 SERVER spans (one per attempt that reached it) + 2 attempts to the app
    const spans = byPath(await receiver.waitFor((all) => byPath(all, '/flaky/1').length >= 7), '/flaky/1');
    assert.equal(spans.length, 7, spans.map((s) => `${s.resource['service.name']} ${s.kind} ${s.name}`).join('\n'));
    const traceId = spans[0]?.traceId ?? '';
    assert.match(traceId, TRACE_ID);
    for (const s of spans) assert.equal(s.traceId, traceId, 'every span is in one trace');

    const frontendSpans = spans.filter((s) => s.resource['service.name'] === 'frontend');
    const catalogSpans = spans.filter((s) => s.resource['service.name'] === 'catalog');
    const request = frontendSpans.find((s) => s.attributes['outrigger.attempt'] === undefined);
    assert.ok(request);
    assert.equal(request.kind, 'CLIENT');
    assert.equal(request.parentSpanId, '', 'the app sent no trace context: the request span is the root');
    assert.equal(request.name, 'GET catalog.default');
    assert.equal(request.attributes['http.request.method'], 'GET');
    assert.equal(request.attributes['http.response.status_code'], 200);
    assert.equal(request.attributes['outrigger.attempts'], 2);
    assert.equal(request.attributes['outrigger.direction'], 'outbound');
    assert.equal(request.attributes['network.peer.address'], '127.0.0.1');
    assert.equal(request.status.code, 'UNSET');
    assert.equal(request.resource['service.namespace'], 'default');
    const retry = request.events.find((e) => e.name === 'retry');
    assert.ok(retry, 'the retry is an event on the request span');
    assert.equal(retry.attributes['outrigger.retry.attempt'], 2, 'the attempt about to start');
    assert.equal(retry.attributes['outrigger.retry.reason'], '503');

    const attempts = frontendSpans.filter((s) => s.attributes['outrigger.attempt'] !== undefined).sort((a, b) => Number(a.attributes['outrigger.attempt']) - Number(b.attributes['outrigger.attempt']));
    assert.equal(attempts.length, 2);
    const [first, second] = attempts as [ReceivedSpan, ReceivedSpan];
    for (const a of attempts) {
      assert.equal(a.kind, 'CLIENT');
      assert.equal(a.parentSpanId, request.spanId, 'attempts are children of the request span');
      assert.equal(a.attributes['server.address'], '127.0.0.1');
      assert.equal(a.attributes['server.port'], catalog.inboundPort);
    }
    assert.equal(first.attributes['http.response.status_code'], 503);
    assert.equal(first.status.code, 'ERROR');
    assert.equal(second.attributes['http.response.status_code'], 200);
    assert.equal(second.status.code, 'UNSET');

    const servers = catalogSpans.filter((s) => s.kind === 'SERVER');
    assert.equal(servers.length, 2);
    const served = servers.find((s) => s.attributes['http.response.status_code'] === 200);
    const failed = servers.find((s) => s.attributes['http.response.status_code'] === 503);
    assert.equal(served?.parentSpanId, second.spanId, "catalog's SERVER span is a child of the frontend's second attempt");
    assert.equal(failed?.parentSpanId, first.spanId);
    assert.equal(failed?.status.code, 'ERROR');
    assert.equal(served?.attributes['outrigger.direction'], 'inbound');
    const appAttempt = catalogSpans.find((s) => s.kind === 'CLIENT' && s.parentSpanId === served?.spanId);
    assert.ok(appAttempt, "catalog's attempt to its app is a child of its SERVER span");

    // What reached the app carries the catalog attempt span's context, in every format.
    const headers = lastRequestTo(catalogApp, '/flaky/1')?.headers ?? {};
    assert.equal(headers.traceparent, `00-${traceId}-${appAttempt.spanId}-01`);
    assert.equal(headers.b3, `${traceId}-${appAttempt.spanId}-1`);
    assert.equal(headers['x-b3-traceid'], traceId);
    assert.equal(headers['x-b3-spanid'], appAttempt.spanId);
    assert.equal(headers['uber-trace-id'], `${traceId}:${appAttempt.spanId}:0:01`);
  });

  test("the app's W3C traceparent is honoured as the parent, and baggage passes on", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await send(frontend.outboundPort, { path: '/w3c', headers: { host: 'catalog', traceparent: `00-${traceId}-00f067aa0ba902b7-01`, baggage: 'tenant=blue' } });
    assert.equal(res.status, 200);
    const spans = byPath(await receiver.waitFor((all) => byPath(all, '/w3c').length >= 4), '/w3c');
    for (const s of spans) assert.equal(s.traceId, traceId);
    const request = spans.find((s) => s.resource['service.name'] === 'frontend' && s.attributes['outrigger.attempt'] === undefined);
    assert.equal(request?.parentSpanId, '00f067aa0ba902b7');
    const headers = lastRequestTo(catalogApp, '/w3c')?.headers ?? {};
    assert.match(String(headers.traceparent), new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    assert.notEqual(headers.traceparent, `00-${traceId}-00f067aa0ba902b7-01`, 'the sidecars replaced the parent with their own spans');
    assert.equal(headers.baggage, 'tenant=blue');
  });

  test('a B3 single header is read as the parent', async () => {
    const traceId = '80f198ee56343ba864fe8b2a57d3eff7';
    const res = await send(frontend.outboundPort, { path: '/b3', headers: { host: 'catalog', b3: `${traceId}-e457b5a2e4d86bd1-1` } });
    assert.equal(res.status, 200);
    const spans = byPath(await receiver.waitFor((all) => byPath(all, '/b3').length >= 4), '/b3');
    for (const s of spans) assert.equal(s.traceId, traceId);
    const request = spans.find((s) => s.resource['service.name'] === 'frontend' && s.attributes['outrigger.attempt'] === undefined);
    assert.equal(request?.parentSpanId, 'e457b5a2e4d86bd1');
    assert.match(String(lastRequestTo(catalogApp, '/b3')?.headers.b3), new RegExp(`^${traceId}-[0-9a-f]{16}-1$`));
  });

  test('hot reload: 0 % samples nothing and says so downstream, then tracing off adds no header and exports nothing', async () => {
    const generation = async (): Promise<number> => (await getJson<{ generation: number }>(frontend.adminPort, '/config_dump')).body.generation;
    const reloadTo = async (tracing: string): Promise<void> => {
      const before = await generation();
      writeFileSync(join(frontendConfig, 'mesh.yaml'), meshYaml(tracing));
      const deadline = Date.now() + 5_000;
      while ((await generation()) === before) {
        if (Date.now() > deadline) throw new Error('config was not reloaded');
        await sleep(50);
      }
    };
    // 100 % before the change: every request is traced
    for (let i = 0; i < 5; i++) assert.equal((await send(frontend.outboundPort, { path: '/all', headers: { host: 'catalog' } })).status, 200);
    await receiver.waitFor((all) => byPath(all, '/all').filter((s) => s.resource['service.name'] === 'frontend' && s.attributes['outrigger.attempt'] === undefined).length === 5);

    await reloadTo(`enabled: true\nsampling: { percentage: 0 }\notlp: { endpoint: "${receiver.endpoint}" }`);
    for (let i = 0; i < 10; i++) await send(frontend.outboundPort, { path: '/none', headers: { host: 'catalog' } });
    // A sampled parent is still followed at 0 % (parent-based sampling).
    await send(frontend.outboundPort, { path: '/parent', headers: { host: 'catalog', traceparent: '00-11111111111111111111111111111111-2222222222222222-01' } });
    await receiver.waitFor((all) => byPath(all, '/parent').some((s) => s.resource['service.name'] === 'frontend'));

    await reloadTo('enabled: false');
    const sent = '00-33333333333333333333333333333333-4444444444444444-01';
    await send(frontend.outboundPort, { path: '/off-bare', headers: { host: 'catalog' } });
    // The app's own header passes the frontend untouched.
    await send(frontend.outboundPort, { path: '/off', headers: { host: 'catalog', traceparent: sent } });
    await sleep(400);
    // At 0 % the frontend passes its decision on (sampled flag 00): the catalog, though at 100 %, follows its parent
    // and records nothing, so no orphan traces start mid-path.
    assert.equal(byPath(receiver.spans, '/none').length, 0, '0 %: no span anywhere on the path');
    assert.match(String(lastRequestTo(catalogApp, '/none')?.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    // Tracing off: the frontend adds no header, so the catalog's SERVER spans are roots.
    const servers = byPath(receiver.spans, '/off-bare').filter((s) => s.kind === 'SERVER');
    assert.ok(servers.length > 0);
    for (const s of servers) assert.equal(s.parentSpanId, '', '/off-bare: no context came from the frontend');
    assert.equal(byPath(receiver.spans, '/off').filter((s) => s.resource['service.name'] === 'frontend').length, 0, 'off: no frontend span');
    // The catalog (still tracing) parented its span on exactly what the app sent.
    const catalogServer = byPath(receiver.spans, '/off').find((s) => s.kind === 'SERVER');
    assert.equal(catalogServer?.traceId, '33333333333333333333333333333333');
    assert.equal(catalogServer?.parentSpanId, '4444444444444444');
  });
});

describe('OTLP over gRPC', () => {
  test('a sidecar set to protocol grpc exports its spans to a gRPC collector, headers as metadata', async () => {
    const receiver = await startOtlpGrpcReceiver();
    const app = await startUpstream(echo, 'app');
    const upstream = await startUpstream(echo, 'upstream');
    const config = writeConfig({
      'upstream.yaml': endpointsYaml('upstream', [upstream.address]),
      'mesh.yaml': meshYaml(
        `enabled: true\nsampling: { percentage: 100 }\notlp: { protocol: grpc, endpoint: "${receiver.endpoint}", headers: [{ name: x-tenant, value: team-a }] }`,
      ),
    });
    const sidecar = await startSidecarProcess({ service: 'client', app: app.address, config, env: FAST_EXPORT });
    try {
      assert.equal((await send(sidecar.outboundPort, { path: '/over-grpc', headers: { host: 'upstream' } })).status, 200);
      const spans = await receiver.waitFor((all) => all.some((s) => s.attributes['url.path'] === '/over-grpc' && s.kind === 'CLIENT'));
      const request = spans.find((s) => s.attributes['url.path'] === '/over-grpc' && s.kind === 'CLIENT');
      assert.equal(request?.resource['service.name'], 'client');
      assert.match(String(upstream.requests[0]?.headers.traceparent), new RegExp(`^00-${request?.traceId}-`));
      assert.deepEqual(receiver.exports[0]?.headers['x-tenant'], 'team-a');
      assert.equal(receiver.exports[0]?.contentType, 'application/grpc');
    } finally {
      await sidecar.stop();
      await app.close();
      await upstream.close();
      await receiver.close();
    }
  });
});

describe('tracing never slows traffic', () => {
  test('with the collector down (closed port), requests still succeed fast', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const app = await startUpstream(echo, 'app');
    const upstream = await startUpstream(echo, 'upstream');
    const config = writeConfig({
      'upstream.yaml': endpointsYaml('upstream', [upstream.address]),
      'mesh.yaml': meshYaml(`enabled: true\nsampling: { percentage: 100 }\notlp: { endpoint: "http://127.0.0.1:${closed}/v1/traces" }`),
    });
    const sidecar = await startSidecarProcess({ service: 'client', app: app.address, config, env: FAST_EXPORT });
    try {
      const started = performance.now();
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => send(sidecar.outboundPort, { path: `/dead/${i}`, headers: { host: 'upstream' }, timeoutMs: 2_000 })));
      const elapsed = performance.now() - started;
      assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
      assert.ok(elapsed < 1_500, `50 requests took ${Math.round(elapsed)} ms`);
      assert.match(String(upstream.requests[0]?.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      // Still fast once exports have started failing.
      await sleep(300);
      const t0 = performance.now();
      for (let i = 0; i < 10; i++) assert.equal((await send(sidecar.outboundPort, { path: '/dead/after', headers: { host: 'upstream' } })).status, 200);
      assert.ok(performance.now() - t0 < 1_000);
    } finally {
      await sidecar.stop();
      await app.close();
      await upstream.close();
    }
  });
});
