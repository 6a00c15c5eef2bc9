import assert from 'node:assert/strict';
import { once } from 'node:events';
import { renameSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { getJson, send } from './support/client.ts';
import { runLoad } from './support/load.ts';
import { endpointsYaml, startSidecarProcess, writeConfig, type SidecarProcess } from './support/sidecar-process.ts';
import { echo, startUpstream, type TestUpstream } from './support/upstream.ts';

const upstreams: TestUpstream[] = [];
after(async () => {
  for (const u of upstreams) await u.close();
});

async function slowUpstream(): Promise<TestUpstream> {
  const upstream = await startUpstream((req, res) => {
    const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? '0');
    setTimeout(() => res.end('done'), delay);
  }, 'slow');
  upstreams.push(upstream);
  return upstream;
}

async function meshPair(drainSeconds: number): Promise<{ sidecar: SidecarProcess; upstream: TestUpstream }> {
  const upstream = await slowUpstream();
  const app = await startUpstream(echo, 'app');
  upstreams.push(app);
  const config = writeConfig({ 'catalog.yaml': endpointsYaml('catalog', [upstream.address]) });
  const sidecar = await startSidecarProcess({ service: 'app', app: app.address, config, extraArgs: ['--drain-seconds', String(drainSeconds)] });
  return { sidecar, upstream };
}

/** One GET on a keep-alive agent: status and the Connection header the sidecar answered with. */
function get(port: number, path: string, agent: Agent): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: 'catalog' }, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('SIGTERM drains without failing a client that follows readiness', () => {
  test('readiness off at once, new connections served during the pre-drain delay, in-flight requests finish, then exit', async () => {
    const { sidecar } = await meshPair(1);
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const results: number[] = [];
    let following = true;
    const clients = Array.from({ length: 4 }, async () => {
      while (following) results.push((await get(sidecar.outboundPort, '/work?delay=150', agent)).status);
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const startedAt = performance.now();
    sidecar.child.kill('SIGTERM');
    let readyOffAfter = Infinity;
    while (performance.now() - startedAt < 2_000) {
      const ready = await getJson<{ ready: boolean; draining: boolean }>(sidecar.adminPort, '/ready');
      if (ready.status === 503) {
        assert.equal(ready.body.draining, true);
        readyOffAfter = performance.now() - startedAt;
        break;
      }
    }
    assert.ok(readyOffAfter < 200, `readiness turned false ${readyOffAfter.toFixed(0)} ms after SIGTERM`);
    // Endpoint removal lags readiness: a brand-new connection during the pre-drain delay is still served.
    const fresh = await send(sidecar.outboundPort, { path: '/work', headers: { host: 'catalog' } });
    assert.equal(fresh.status, 200);
    following = false;
    await Promise.all(clients);
    // A request in flight when the listeners close still completes, and its connection closes after it.
    const late = get(sidecar.outboundPort, '/work?delay=900', agent);
    const [code] = (await once(sidecar.child, 'exit')) as [number | null];
    const lateResult = await late;
    assert.equal(lateResult.status, 200);
    assert.equal(lateResult.connection, 'close');
    assert.equal(code, 0);
    assert.ok(results.length > 10 && results.every((s) => s === 200), `${results.length} requests, all 200`);
    assert.ok(performance.now() - startedAt < 1_000 + 5_000, 'exited within pre-drain + grace');
    agent.destroy();
  });

  test('POST /drain does the same without exiting: admin keeps answering, listeners close after the delay', async () => {
    const { sidecar } = await meshPair(0.3);
    try {
      const drained = await send(sidecar.adminPort, { method: 'POST', path: '/drain' });
      assert.equal(drained.status, 202);
      assert.equal((await getJson(sidecar.adminPort, '/ready')).status, 503);
      await new Promise((resolve) => setTimeout(resolve, 800));
      await assert.rejects(send(sidecar.outboundPort, { path: '/work', headers: { host: 'catalog' } }), /ECONNREFUSED|ECONNRESET/);
      assert.equal((await getJson(sidecar.adminPort, '/live')).status, 200);
      assert.equal(sidecar.child.exitCode, null, 'still running');
    } finally {
      await sidecar.stop();
    }
  });
});

test('config reload under steady load: zero failed requests across 100 reloads', async () => {
  const a = await slowUpstream();
  const b = await slowUpstream();
  const app = await startUpstream(echo, 'app');
  upstreams.push(app);
  const dir = writeConfig({ 'catalog.yaml': endpointsYaml('catalog', [a.address]) });
  const sidecar = await startSidecarProcess({ service: 'app', app: app.address, config: dir });
  try {
    let reloads = 0;
    const load = runLoad(sidecar.outboundPort, 'catalog', 4, 60_000, () => reloads >= 100);
    for (let i = 1; i <= 100; i++) {
      const temp = join(dir, '.catalog.yaml.tmp');
      // Alternate endpoints and, every other time, a retry policy, so each reload swaps a different generation.
      writeFileSync(temp, endpointsYaml('catalog', [i % 2 === 0 ? a.address : b.address]));
      renameSync(temp, join(dir, 'catalog.yaml'));
      const target = i + 1;
      const deadline = Date.now() + 5_000;
      while ((await getJson<{ generation: number }>(sidecar.adminPort, '/config_dump')).body.generation < target) {
        if (Date.now() > deadline) throw new Error(`reload ${i} did not land`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      reloads = i;
    }
    const result = await load;
    assert.ok(result.sent > 100, `${result.sent} requests during the reloads`);
    assert.deepEqual([...result.failures], [], 'no failed request');
    console.log(`# 100 reloads under load: ${result.sent} requests, 0 failed`);
  } finally {
    await sidecar.stop();
  }
});

test('the health port answers only /ready and /live, and turns unready when draining', async () => {
  const upstream = await slowUpstream();
  const config = writeConfig({ 'catalog.yaml': endpointsYaml('catalog', [upstream.address]) });
  const sidecar = await startSidecarProcess({ service: 'app', app: upstream.address, config, extraArgs: ['--health-port', '0', '--drain-seconds', '1'] });
  try {
    const readyLine = sidecar.logs.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg?: string; health?: number }).find((e) => e.msg === 'ready');
    const healthPort = readyLine?.health;
    assert.ok(healthPort, 'the ready log names the health port');
    assert.equal((await send(healthPort, { path: '/ready' })).status, 200);
    assert.equal((await send(healthPort, { path: '/live' })).status, 200);
    assert.equal((await send(healthPort, { path: '/config_dump' })).status, 404);
    assert.equal((await send(healthPort, { method: 'POST', path: '/drain' })).status, 405);
    sidecar.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await send(healthPort, { path: '/ready' })).status, 503);
    assert.equal((await send(healthPort, { path: '/live' })).status, 200);
  } finally {
    await sidecar.stop();
  }
});

test('overloaded, the sidecar sheds new requests with 503 OM and Retry-After, proxies none, and its admin and health ports keep answering', async () => {
  const upstream = await slowUpstream();
  const config = writeConfig({ 'catalog.yaml': endpointsYaml('catalog', [upstream.address]) });
  // A heap threshold every process is over: the overload state from the first sample on.
  const sidecar = await startSidecarProcess({ service: 'app', app: upstream.address, config, extraArgs: ['--overload-heap', '0.000001', '--health-port', '0'] });
  try {
    const before = upstream.requests.length;
    let shed: Awaited<ReturnType<typeof send>> | undefined;
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      shed = await send(sidecar.outboundPort, { path: '/work', headers: { host: 'catalog' } });
      if (shed.status === 503) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(shed?.status, 503);
    assert.equal(shed?.headers['x-outrigger-reason'], 'OM');
    assert.equal(shed?.headers['retry-after'], '1');
    assert.match(shed?.body ?? '', /^OM: sidecar overloaded: request shed: heap at/);
    const afterShedding = upstream.requests.length;
    for (let i = 0; i < 5; i++) assert.equal((await send(sidecar.inboundPort, { path: '/work', headers: { host: 'app' } })).status, 503);
    assert.equal(upstream.requests.length, afterShedding, 'nothing shed reached the app or the upstream');
    assert.ok(afterShedding - before <= 5, 'only requests before the first sample went through');
    assert.equal((await getJson(sidecar.adminPort, '/live')).status, 200);
    assert.equal((await getJson(sidecar.adminPort, '/ready')).status, 200);
    const metrics = await send(sidecar.adminPort, { path: '/metrics' });
    assert.match(metrics.body, /reason="overload"[^\n]* ([1-9]\d*)\n/);
    assert.ok(sidecar.logs.some((l) => l.includes('overloaded: shedding new requests')));
  } finally {
    await sidecar.stop();
  }
});
