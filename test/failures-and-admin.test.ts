import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getJson, send } from './support/client.ts';
import { freePort } from './support/local-tools.ts';
import { endpointsYaml, startSidecarProcess, writeConfig, type SidecarProcess } from './support/sidecar-process.ts';
import { echo, startUpstream, type TestUpstream } from './support/upstream.ts';


describe('failures become responses with reason flags; the admin API reports state', () => {
  let app: TestUpstream;
  let slow: TestUpstream;
  let sidecar: SidecarProcess;
  let deadPort: number;
  let slowCancelled = 0;

  before(async () => {
    app = await startUpstream(echo, 'app');
    slow = await startUpstream((_req, res) => {
      res.on('close', () => {
        if (!res.writableFinished) slowCancelled++;
      });
      setTimeout(() => res.end('slow'), 2_000).unref();
    }, 'slow');
    deadPort = await freePort(); // nothing listens there: connection refused
    const config = writeConfig({
      'services.yaml': [
        endpointsYaml('dead', [`127.0.0.1:${deadPort}`]),
        endpointsYaml('empty', []),
        endpointsYaml('slow', [slow.address]),
        endpointsYaml('secretive', [app.address]),
      ].join('---\n'),
      'routes.yaml': `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: slow-route }
spec:
  parentRefs: [{ kind: Service, name: slow }]
  rules:
    - timeouts: { request: 300ms }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: secret-route }
spec:
  parentRefs: [{ name: secretive }]
  rules:
    - filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            set: [{ name: authorization, value: "Bearer hunter2" }]
`,
    });
    sidecar = await startSidecarProcess({ service: 'app', app: app.address, config });
  });

  after(async () => {
    await sidecar?.stop();
    await app?.close();
    await slow?.close();
  });

  const debug = { 'x-outrigger-debug': '1' };

  test('connection refused → 502 UF', async () => {
    const res = await send(sidecar.outboundPort, { headers: { host: 'dead', ...debug } });
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-outrigger-reason'], 'UF');
    assert.match(res.body, /^UF: upstream connection failure: after 3 attempts: /, 'retried twice by default, then the cause is reported');
    assert.ok(res.headers['x-request-id']);
  });

  test('the reason header appears only when asked for (reasonHeader: OnRequest)', async () => {
    const res = await send(sidecar.outboundPort, { headers: { host: 'dead' } });
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-outrigger-reason'], undefined);
  });

  test('no endpoint → 503 UH', async () => {
    const res = await send(sidecar.outboundPort, { headers: { host: 'empty', ...debug } });
    assert.equal(res.status, 503);
    assert.equal(res.headers['x-outrigger-reason'], 'UH');
  });

  test('unknown Service → 404 NR', async () => {
    const res = await send(sidecar.outboundPort, { headers: { host: 'nowhere', ...debug } });
    assert.equal(res.status, 404);
    assert.equal(res.headers['x-outrigger-reason'], 'NR');
    assert.match(res.body, /nowhere\.default/);
  });

  test('malformed Host → 400 DPE, nothing forwarded', async () => {
    const before = slow.requests.length;
    const res = await send(sidecar.outboundPort, { headers: { host: 'slow/../etc', ...debug } });
    assert.equal(res.status, 400);
    assert.equal(res.headers['x-outrigger-reason'], 'DPE');
    assert.equal(slow.requests.length, before);
  });

  test('route timeout → 504 UT, and the upstream request is cancelled', async () => {
    const started = Date.now();
    const res = await send(sidecar.outboundPort, { headers: { host: 'slow', ...debug } });
    assert.equal(res.status, 504);
    assert.equal(res.headers['x-outrigger-reason'], 'UT');
    assert.ok(Date.now() - started < 1_500, 'answered at the deadline, not when the upstream finished');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(slowCancelled, 1, 'the upstream saw its request abandoned');
  });

  test('/live and /ready answer 200', async () => {
    assert.equal((await send(sidecar.adminPort, { path: '/live' })).status, 200);
    const ready = await getJson<{ ready: boolean }>(sidecar.adminPort, '/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.ready, true);
  });

  test('/config_dump shows the version and resources with secrets redacted', async () => {
    const dump = await getJson<{ version: string; resources: unknown[] }>(sidecar.adminPort, '/config_dump');
    assert.match(dump.body.version, /^[0-9a-f]{12}$/);
    assert.equal(dump.body.resources.length, 6);
    const text = JSON.stringify(dump.body);
    assert.ok(!text.includes('hunter2'), 'the bearer token is not shown');
    assert.ok(text.includes('[redacted]'));
  });

  test('/clusters shows each endpoint with health, active requests, counts and latency estimate', async () => {
    await send(sidecar.outboundPort, { headers: { host: 'secretive' } });
    const clusters = await getJson<{ services: { service: string; loadBalancer: string; endpoints: { address: string; healthy: boolean; activeRequests: number; completed: number; latencyEstimateMs: number }[] }[] }>(sidecar.adminPort, '/clusters');
    const secretive = clusters.body.services.find((s) => s.service === 'secretive.default');
    assert.ok(secretive);
    assert.equal(secretive.loadBalancer, 'LeastRequest');
    const [endpoint] = secretive.endpoints;
    assert.ok(endpoint);
    assert.equal(endpoint.address, app.address);
    assert.equal(endpoint.healthy, true);
    assert.equal(endpoint.activeRequests, 0);
    assert.ok(endpoint.completed >= 1);
    assert.ok(endpoint.latencyEstimateMs > 0);
  });
});
