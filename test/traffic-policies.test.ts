import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getJson, send } from './support/client.ts';
import { startRedis, type TestRedis } from './support/redis.ts';
import { endpointsYaml, startSidecarProcess, writeConfig, type SidecarProcess } from './support/sidecar-process.ts';
import { echo, startUpstream, type TestUpstream } from './support/upstream.ts';

const policy = (service: string, spec: string) => `apiVersion: outrigger.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: ${service} }
spec:
  targetRefs: [{ group: "", kind: Service, name: ${service} }]
${spec}`;

describe('TrafficPolicy rate limits, faults and fallbacks through real sidecars', () => {
  let app: TestUpstream;
  let redis: TestRedis;
  let client: SidecarProcess;
  const apiSidecars: SidecarProcess[] = [];

  before(async () => {
    app = await startUpstream(echo, 'app');
    redis = await startRedis();
    const apiConfig = writeConfig({
      'api.yaml': policy('api', `  rateLimit:\n    direction: Inbound\n    global: { requests: 10, unit: Minute, redis: { url: "${redis.url}", timeout: 1s } }\n`),
    });
    for (let i = 0; i < 2; i++) apiSidecars.push(await startSidecarProcess({ service: 'api', app: app.address, config: apiConfig }));
    const config = writeConfig({
      'services.yaml': [endpointsYaml('limited', [app.address]), endpointsYaml('faulty', [app.address]), endpointsYaml('broken', [])].join('---\n'),
      'policies.yaml': [
        policy('limited', '  rateLimit:\n    direction: Outbound\n    local: { requests: 5, unit: Minute }\n'),
        policy('faulty', '  faultInjection:\n    abort: { httpStatus: 503, percentage: 100 }\n    headers: [{ name: x-chaos, value: "on" }]\n'),
        policy('broken', '  fallback:\n    response: { status: 200, body: "cached catalog", headers: [{ name: content-type, value: text/plain }] }\n'),
      ].join('---\n'),
    });
    client = await startSidecarProcess({ service: 'client', app: app.address, config });
  });

  after(async () => {
    for (const s of [client, ...apiSidecars]) await s?.stop();
    await redis?.stop();
    await app?.close();
  });

  test('a local limit answers 429 with Retry-After and RateLimit headers once spent, without calling upstream', async () => {
    const before = app.requests.length;
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 7; i++) {
      const res = await send(client.outboundPort, { headers: { host: 'limited', 'x-outrigger-debug': '1' } });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
    assert.ok(limited);
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    assert.match(String(limited.headers['ratelimit-policy']), /"local";q=5;w=60/);
    assert.match(String(limited.headers.ratelimit), /r=0/);
    assert.equal(limited.headers['x-outrigger-reason'], 'RL');
    assert.equal(app.requests.length - before, 5);
  });

  // A generous Redis timeout: on a busy test machine a 50 ms default can pass, and failing open would admit extra requests.
  test('a global limit is shared by two sidecars through Redis, under concurrent load', async () => {
    const ports = apiSidecars.map((s) => s.inboundPort);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => send(ports[i % 2] as number, { headers: { host: 'api' } })));
    const ok = results.filter((r) => r.status === 200).length;
    const limited = results.filter((r) => r.status === 429).length;
    assert.equal(ok, 10);
    assert.equal(limited, 20);
    const clusters = await getJson<{ inbound: { rateLimit: { allowed: number; limited: number } | null } }>(apiSidecars[0]!.adminPort, '/clusters');
    const stats = clusters.body.inbound.rateLimit;
    assert.ok(stats, '/clusters shows the inbound rate limit');
    assert.equal(stats.allowed + stats.limited, 15, 'this sidecar took half of the 30 requests');
  });

  test('fault injection aborts only requests carrying the selector header', async () => {
    const hit = await send(client.outboundPort, { headers: { host: 'faulty', 'x-chaos': 'on', 'x-outrigger-debug': '1' } });
    assert.equal(hit.status, 503);
    assert.equal(hit.headers['x-outrigger-reason'], 'FI');
    assert.equal((await send(client.outboundPort, { headers: { host: 'faulty' } })).status, 200);
  });

  test('a fallback response answers when the Service has no endpoint, marked with its reason', async () => {
    const res = await send(client.outboundPort, { headers: { host: 'broken', 'x-outrigger-debug': '1' } });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'cached catalog');
    assert.equal(res.headers['content-type'], 'text/plain');
    assert.equal(res.headers['x-outrigger-fallback'], 'response');
    assert.equal(res.headers['x-outrigger-reason'], 'UH');
  });
});
