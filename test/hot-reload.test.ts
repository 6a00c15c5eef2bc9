import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { getJson, send } from './support/client.ts';
import { endpointsYaml, startSidecarProcess, writeConfig, type SidecarProcess } from './support/sidecar-process.ts';
import { echo, startUpstream, type TestUpstream } from './support/upstream.ts';

interface Dump {
  version: string;
  generation: number;
  reloadFailures: number;
  lastReload: { ok: boolean; errors: { file: string; line: number; path: string; message: string }[] };
}

async function until<T>(probe: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!accept(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
    last = await probe();
  }
  return last;
}

describe('hot reload', () => {
  let app: TestUpstream;
  let v1: TestUpstream;
  let v2: TestUpstream;
  let sidecar: SidecarProcess;
  let file: string;

  before(async () => {
    app = await startUpstream(echo, 'app');
    v1 = await startUpstream((req, res) => (req.url === '/slow' ? void setTimeout(() => res.end('slow from v1'), 800) : echo(req, res)), 'v1');
    v2 = await startUpstream(echo, 'v2');
    const dir = writeConfig({ 'catalog.yaml': endpointsYaml('catalog', [v1.address]) });
    file = join(dir, 'catalog.yaml');
    sidecar = await startSidecarProcess({ service: 'app', app: app.address, config: dir });
  });

  after(async () => {
    await sidecar?.stop();
    for (const u of [app, v1, v2]) await u?.close();
  });

  const servedBy = async (): Promise<unknown> => (await send(sidecar.outboundPort, { headers: { host: 'catalog' } })).headers['x-served-by'];
  const dump = async (): Promise<Dump> => (await getJson<Dump>(sidecar.adminPort, '/config_dump')).body;

  test('a changed file is swapped in while a request in flight finishes on the old config', async () => {
    assert.equal(await servedBy(), 'v1');
    const inFlight = send(sidecar.outboundPort, { path: '/slow', headers: { host: 'catalog' } });
    await new Promise((r) => setTimeout(r, 100));
    writeFileSync(file, endpointsYaml('catalog', [v2.address]));
    await until(servedBy, (s) => s === 'v2', 'the new endpoint to serve');
    const old = await inFlight;
    assert.equal(old.status, 200);
    assert.equal(old.body, 'slow from v1');
    assert.equal((await dump()).generation, 2);
  });

  test('an invalid change is rejected with file, line and field; the last good config keeps serving', async () => {
    const good = await dump();
    writeFileSync(file, `${endpointsYaml('catalog', [v1.address])}      wieght: 3\n`);
    const rejected = await until(dump, (d) => d.reloadFailures > good.reloadFailures, 'the reload to fail');
    assert.equal(rejected.lastReload.ok, false);
    const [error] = rejected.lastReload.errors;
    assert.ok(error);
    assert.equal(error.file, file);
    assert.equal(error.line, 9);
    assert.match(error.path, /spec\.endpoints\[0\]/);
    assert.match(error.message, /wieght/);
    assert.equal(rejected.version, good.version);
    assert.equal(await servedBy(), 'v2');
    assert.ok(sidecar.logs.some((l) => l.includes('config rejected') && l.includes('wieght')));
  });

  test('broken YAML is rejected too, and fixing it recovers', async () => {
    writeFileSync(file, 'apiVersion: [unclosed\n');
    const before = (await dump()).reloadFailures;
    await until(dump, (d) => d.reloadFailures > before, 'the syntax error to be reported');
    assert.equal(await servedBy(), 'v2');
    writeFileSync(file, endpointsYaml('catalog', [v1.address]));
    await until(servedBy, (s) => s === 'v1', 'the fixed config to serve');
  });
});

describe('hot reload of a single config file replaced by rename (as editors and ConfigMap mounts do)', () => {
  test('the new content is picked up', async () => {
    const app = await startUpstream(echo, 'app');
    const v1 = await startUpstream(echo, 'v1');
    const v2 = await startUpstream(echo, 'v2');
    const dir = writeConfig({ 'mesh.yaml': endpointsYaml('catalog', [v1.address]) });
    const file = join(dir, 'mesh.yaml');
    const sidecar = await startSidecarProcess({ service: 'app', app: app.address, config: file });
    try {
      const servedBy = async (): Promise<unknown> => (await send(sidecar.outboundPort, { headers: { host: 'catalog' } })).headers['x-served-by'];
      assert.equal(await servedBy(), 'v1');
      writeFileSync(`${file}.tmp`, endpointsYaml('catalog', [v2.address]));
      renameSync(`${file}.tmp`, file);
      await until(servedBy, (s) => s === 'v2', 'the replaced file to be loaded');
      writeFileSync(`${file}.tmp`, endpointsYaml('catalog', [v1.address]));
      renameSync(`${file}.tmp`, file);
      await until(servedBy, (s) => s === 'v1', 'a second replacement to be loaded too');
    } finally {
      await sidecar.stop();
      for (const u of [app, v1, v2]) await u.close();
    }
  });
});
