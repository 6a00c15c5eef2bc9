import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { getJson, send } from './support/client.ts';
import { percentile, runLoad } from './support/load.ts';
import { rejectedCount, scrapeMetrics } from './support/metrics-scrape.ts';
import { sendRaw } from './support/raw-socket.ts';
import { startSidecarProcess, writeConfig, type SidecarProcess } from './support/sidecar-process.ts';
import { startUpstream, type TestUpstream } from './support/upstream.ts';

/**
 * Slow and abusive clients against a real sidecar: slowloris, a stalled request body, a client that never reads its
 * response, and the connection limit. Each is bounded by the Mesh's `downstream` limits, counted in
 * `outrigger_downstream_rejected_total`, and leaves normal clients served. docs/slow-clients.md has the figures.
 */

function meshYaml(downstream: Record<string, string | number>): string {
  const fields = Object.entries(downstream).map(([key, value]) => `    ${key}: ${typeof value === 'string' ? JSON.stringify(value) : value}`);
  return `apiVersion: outrigger.dev/v1alpha1\nkind: Mesh\nmetadata:\n  name: mesh\nspec:\n  downstream:\n${fields.join('\n')}\n`;
}

const rejected = (sidecar: SidecarProcess, listener: string, reason: string): Promise<number> => rejectedCount(sidecar.adminPort, listener, reason);

async function residentBytes(sidecar: SidecarProcess): Promise<number> {
  return (await scrapeMetrics(sidecar.adminPort)).value('process_resident_memory_bytes') ?? Number.NaN;
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A slowloris client: a request head that never ends, one header byte every `everyMs`, until the server closes. */
interface SlowClient {
  reply: string;
  closedAfterMs: number | undefined;
}

async function openSlowClient(port: number, everyMs: number): Promise<SlowClient> {
  const socket = await openSocket(port);
  const client: SlowClient = { reply: '', closedAfterMs: undefined };
  const opened = Date.now();
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => (client.reply += chunk.toString('latin1')));
  socket.write('GET /slow HTTP/1.1\r\nHost: app\r\nX-Slow: ');
  const timer = setInterval(() => socket.write('a'), everyMs);
  socket.once('close', () => {
    clearInterval(timer);
    client.closedAfterMs = Date.now() - opened;
  });
  // Bounded even if the server never closes it: the test fails on the missing close, it does not hang.
  setTimeout(() => socket.destroy(), 30_000).unref();
  return client;
}

describe('slowloris: 1 000 connections sending their head one byte at a time', () => {
  let app: TestUpstream;
  let sidecar: SidecarProcess;

  before(async () => {
    app = await startUpstream((_req, res) => res.end('ok'), 'app');
    const config = writeConfig({ 'mesh.yaml': meshYaml({ requestHeadersTimeout: '4s' }) });
    sidecar = await startSidecarProcess({ service: 'app', app: app.address, config });
  });

  after(async () => {
    await sidecar?.stop();
    await app?.close();
  });

  test('normal clients keep a 100 % success rate, and every slow connection gets 408 at the header timeout', async (t) => {
    const baseline = await runLoad(sidecar.inboundPort, 'app', 8, 1_500, () => false);
    const timeoutsBefore = await rejected(sidecar, 'inbound', 'header_timeout');

    const slow: SlowClient[] = [];
    const openedAt = Date.now();
    for (let batch = 0; batch < 10; batch++) {
      slow.push(...(await Promise.all(Array.from({ length: 100 }, () => openSlowClient(sidecar.inboundPort, 500)))));
    }
    const openedInMs = Date.now() - openedAt;
    const underAttack = await runLoad(sidecar.inboundPort, 'app', 8, 2_000, () => false);
    const stillOpen = slow.filter((c) => c.closedAfterMs === undefined).length;

    await until(() => slow.every((c) => c.closedAfterMs !== undefined), 'every slow connection to be closed', 12_000);
    const closedAfter = slow.map((c) => c.closedAfterMs as number);
    const timeoutsAfter = await rejected(sidecar, 'inbound', 'header_timeout');
    t.diagnostic(
      `1 000 slow connections opened in ${openedInMs} ms; ${stillOpen} still open after the attacked load run; ` +
        `normal clients: baseline ${baseline.ok}/${baseline.sent} ok, p50 ${percentile(baseline.latenciesMs, 50).toFixed(2)} ms, p99 ${percentile(baseline.latenciesMs, 99).toFixed(2)} ms; ` +
        `under attack ${underAttack.ok}/${underAttack.sent} ok, p50 ${percentile(underAttack.latenciesMs, 50).toFixed(2)} ms, p99 ${percentile(underAttack.latenciesMs, 99).toFixed(2)} ms; ` +
        `slow connections closed after ${Math.min(...closedAfter)}–${Math.max(...closedAfter)} ms`,
    );

    assert.ok(underAttack.sent > 50, `load ran (${underAttack.sent} requests)`);
    assert.equal(underAttack.ok, underAttack.sent, `failures under attack: ${JSON.stringify([...underAttack.failures])}`);
    assert.ok(stillOpen >= 900, `the slow connections were open while the load ran (${stillOpen} of 1000)`);
    assert.ok(slow.every((c) => c.reply.startsWith('HTTP/1.1 408 ')), `every slow connection got 408; e.g. ${JSON.stringify(slow.find((c) => !c.reply.startsWith('HTTP/1.1 408 '))?.reply)}`);
    assert.ok(Math.min(...closedAfter) >= 3_500, 'none was closed before the 4 s header timeout');
    assert.equal(timeoutsAfter - timeoutsBefore, 1_000, 'outrigger_downstream_rejected_total{reason="header_timeout"} +1000');
    assert.equal(app.requests.filter((r) => r.url === '/slow').length, 0, 'no slow request reached the app');
  });
});

describe('stalled bodies, clients that never read, idle keep-alive and the connection limit', () => {
  let app: TestUpstream;
  let sidecar: SidecarProcess;
  let configDir: string;
  const uploads: { complete: boolean; bytes: number }[] = [];
  const downloads: { finished: boolean; closed: boolean; written: number }[] = [];

  function handler(req: IncomingMessage, res: ServerResponse): void {
    if (req.url === '/upload') {
      const upload = { complete: false, bytes: 0 };
      uploads.push(upload);
      req.on('data', (chunk: Buffer) => (upload.bytes += chunk.length));
      req.on('end', () => {
        upload.complete = true;
        res.end('stored');
      });
      return;
    }
    if (req.url === '/big') {
      // 64 MiB, written as fast as the sidecar takes it: only back-pressure keeps it out of memory.
      const download = { finished: false, closed: false, written: 0 };
      downloads.push(download);
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      res.setHeader('content-length', 1024 * chunk.length);
      const pump = (): void => {
        while (download.written < 1024 * chunk.length) {
          download.written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.once('finish', () => (download.finished = true));
      res.once('close', () => (download.closed = true));
      pump();
      return;
    }
    res.end('ok');
  }

  before(async () => {
    app = await startUpstream(handler, 'app');
    configDir = writeConfig({ 'mesh.yaml': meshYaml({ streamIdleTimeout: '1s', idleTimeout: '2s' }) });
    sidecar = await startSidecarProcess({ service: 'app', app: app.address, config: configDir });
  });

  after(async () => {
    await sidecar?.stop();
    await app?.close();
  });

  test('a request body that stalls gets 408 SI at the stream idle timeout, and the upstream request is aborted', async () => {
    const before = await rejected(sidecar, 'inbound', 'stream_idle_timeout');
    const started = Date.now();
    const reply = await sendRaw(sidecar.inboundPort, ['POST /upload HTTP/1.1\r\nHost: app\r\nx-outrigger-debug: 1\r\nContent-Length: 100\r\n\r\n0123456789'], 5_000);
    const tookMs = Date.now() - started;
    assert.equal(reply.status, 408, reply.raw);
    assert.equal(reply.headers['x-outrigger-reason'], 'SI');
    assert.ok(reply.closed, 'the connection is closed: the rest of the body would be unframed');
    assert.ok(tookMs >= 900 && tookMs < 4_000, `answered after ${tookMs} ms (stream idle timeout 1 s)`);
    assert.equal(await rejected(sidecar, 'inbound', 'stream_idle_timeout'), before + 1);
    await until(() => uploads.length === 1, 'the upload to reach the app', 2_000);
    assert.equal(uploads[0]?.complete, false, 'the app never saw a complete body');
    assert.equal(uploads[0]?.bytes, 10);
    assert.equal((await send(sidecar.inboundPort, { path: '/after', headers: { host: 'app' } })).status, 200);
  });

  test('a client that never reads its response is cut at the stream idle timeout; back-pressure holds the body out of memory', async (t) => {
    const rssBefore = await residentBytes(sidecar);
    const before = await rejected(sidecar, 'inbound', 'stream_idle_timeout');
    const socket = await openSocket(sidecar.inboundPort);
    socket.on('error', () => undefined);
    socket.write('GET /big HTTP/1.1\r\nHost: app\r\n\r\n');
    socket.pause(); // never reads a byte
    await until(() => downloads.length === 1, 'the download to start', 2_000);
    await until(async () => (await rejected(sidecar, 'inbound', 'stream_idle_timeout')) === before + 1, 'the stream idle timeout', 6_000);
    await until(() => downloads[0]?.closed === true, 'the upstream request to be aborted', 3_000);
    const rssAfter = await residentBytes(sidecar);
    socket.destroy();
    const download = downloads[0];
    assert.ok(download);
    t.diagnostic(`upstream wrote ${(download.written / 1048576).toFixed(1)} MiB of 64 before the cut; sidecar RSS ${(rssBefore / 1048576).toFixed(1)} → ${(rssAfter / 1048576).toFixed(1)} MiB`);
    assert.equal(download.finished, false, 'the 64 MiB response was never completed');
    assert.ok(download.written < 24 * 1024 * 1024, `the upstream wrote only what buffers hold: ${(download.written / 1048576).toFixed(1)} MiB of 64`);
    assert.ok(rssAfter - rssBefore < 32 * 1024 * 1024, `sidecar RSS grew ${((rssAfter - rssBefore) / 1048576).toFixed(1)} MiB`);
    assert.equal((await send(sidecar.inboundPort, { path: '/after', headers: { host: 'app' } })).status, 200);
  });

  test('an idle keep-alive connection is closed after the idle timeout', async (t) => {
    const socket = await openSocket(sidecar.inboundPort);
    t.after(() => socket.destroy());
    let reply = '';
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString('latin1')));
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    socket.write('GET / HTTP/1.1\r\nHost: app\r\n\r\n');
    await until(() => reply.includes('\r\n\r\nok'), 'the response', 2_000);
    const answeredAt = Date.now();
    const closedAt = await Promise.race([closed, sleep(8_000).then(() => Number.NaN)]);
    assert.match(reply, /^HTTP\/1\.1 200 /);
    assert.match(reply, /keep-alive: timeout=2/i, 'the client is told the idle timeout');
    const idleMs = closedAt - answeredAt;
    assert.ok(idleMs >= 1_900 && idleMs < 5_000, `closed after ${idleMs} ms idle (idleTimeout 2 s)`);
  });

  test('an upgraded (WebSocket) connection lives while bytes move either way, and is cut at the stream idle timeout', async (t) => {
    const tunnels: Socket[] = [];
    const acceptUpgrade = (_req: IncomingMessage, socket: Socket): void => {
      tunnels.push(socket);
      socket.on('error', () => undefined);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n');
      socket.on('data', (chunk: Buffer) => socket.write(chunk)); // echo
    };
    app.server.on('upgrade', acceptUpgrade);
    t.after(() => app.server.off('upgrade', acceptUpgrade));
    const before = await rejected(sidecar, 'inbound', 'stream_idle_timeout');
    const client = await openSocket(sidecar.inboundPort);
    t.after(() => client.destroy());
    client.on('error', () => undefined);
    let received = '';
    client.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const closed = new Promise<number>((resolve) => client.once('close', () => resolve(Date.now())));
    client.write('GET /chat HTTP/1.1\r\nHost: app\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    await until(() => received.includes('101 Switching Protocols'), 'the 101', 2_000);
    // Twice the stream idle timeout (1 s) of traffic, a message every 300 ms: the tunnel stays up.
    for (let i = 0; i < 7; i++) {
      client.write(`ping ${i};`);
      await until(() => received.includes(`ping ${i};`), `echo ${i}`, 2_000);
      await sleep(300);
    }
    const lastActivity = Date.now();
    const closedAt = await Promise.race([closed, sleep(6_000).then(() => Number.NaN)]);
    const idleMs = closedAt - lastActivity;
    assert.ok(idleMs >= 600 && idleMs < 4_000, `closed after ${idleMs} ms without bytes (stream idle timeout 1 s)`);
    assert.equal(await rejected(sidecar, 'inbound', 'stream_idle_timeout'), before + 1);
    await until(() => tunnels[0]?.destroyed === true || tunnels[0]?.readableEnded === true, 'the upstream side of the tunnel to close', 2_000);
  });

  test('connections beyond maxConnections are closed at once and counted; a reload changes the limit', async () => {
    writeFileSync(join(configDir, 'mesh.yaml'), meshYaml({ streamIdleTimeout: '1s', idleTimeout: '30s', maxConnections: 20 }));
    const limit = async (): Promise<number | undefined> => (await getJson<{ mesh: { downstream: { maxConnections: number } } }>(sidecar.adminPort, '/config_dump')).body.mesh.downstream.maxConnections;
    await until(async () => (await limit()) === 20, 'the reload to set maxConnections 20', 5_000);
    const before = await rejected(sidecar, 'inbound', 'connection_limit');
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const socket = await openSocket(sidecar.inboundPort);
        socket.on('error', () => undefined);
        held.push(socket);
      }
      assert.equal(await rejected(sidecar, 'inbound', 'connection_limit'), before, 'the first 20 were accepted');
      const extra = await sendRaw(sidecar.inboundPort, ['GET / HTTP/1.1\r\nHost: app\r\n\r\n'], 2_000);
      assert.equal(extra.status, 0, `the 21st connection got no response: ${extra.raw}`);
      assert.ok(extra.closed, 'the 21st connection was closed');
      assert.equal(await rejected(sidecar, 'inbound', 'connection_limit'), before + 1);
      for (const socket of held.splice(0, 5)) socket.destroy();
      await until(async () => (await sendRaw(sidecar.inboundPort, ['GET / HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n'], 2_000)).status === 200, 'a connection to be accepted again', 3_000);
    } finally {
      for (const socket of held) socket.destroy();
    }
  });
});
