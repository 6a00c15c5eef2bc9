import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { explainCommand } from '../cli/commands/explain.ts';
import { getJson, send } from './support/client.ts';
import { endpointsYaml, startSidecarProcess, writeConfig, type SidecarProcess } from './support/sidecar-process.ts';
import { echo, startUpstream, type TestUpstream } from './support/upstream.ts';

const started: { sidecars: SidecarProcess[]; upstreams: TestUpstream[] } = { sidecars: [], upstreams: [] };
after(async () => {
  for (const s of started.sidecars) await s.stop();
  for (const u of started.upstreams) await u.close();
});

function capture(): { io: { out: (l: string) => void; err: (l: string) => void }; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l) => out.push(l), err: (l) => err.push(l) }, out, err };
}

test('outrigger explain follows one request id across two sidecars: route, attempts, endpoints, the retry that saved it', async () => {
  let calls = 0;
  // The first endpoint answers 503 once, so the caller's sidecar retries on the other one.
  const flaky = await startUpstream((_req, res) => {
    calls++;
    res.statusCode = 503;
    res.end('busy');
  }, 'flaky');
  const healthy = await startUpstream(echo, 'healthy');
  const app = await startUpstream(echo, 'app');
  started.upstreams.push(flaky, healthy, app);
  const callee = await startSidecarProcess({ service: 'catalog', app: healthy.address, config: writeConfig({ 'catalog.yaml': endpointsYaml('catalog', [flaky.address]) }) });
  started.sidecars.push(callee);
  const caller = await startSidecarProcess({
    service: 'frontend',
    app: app.address,
    config: writeConfig({ 'catalog.yaml': endpointsYaml('catalog', [flaky.address, `127.0.0.1:${callee.inboundPort}`]) }),
  });
  started.sidecars.push(caller);

  let id = '';
  for (let i = 0; i < 20 && calls === 0; i++) {
    const response = await send(caller.outboundPort, { path: '/item', headers: { host: 'catalog', 'x-request-id': `explain-${i}` } });
    assert.equal(response.status, 200);
    id = `explain-${i}`;
  }
  assert.ok(calls > 0, 'a request met the flaky endpoint first');

  const admins = `127.0.0.1:${caller.adminPort},127.0.0.1:${callee.adminPort}`;
  const { io, out, err } = capture();
  assert.equal(await explainCommand.run([id, '--admin', admins], io), 0, err.join('\n'));
  const text = out.join('\n');
  assert.match(text, new RegExp(`request ${id}: GET catalog/item`));
  assert.match(text, /1\. outbound at 127\.0\.0\.1:\d+/);
  assert.match(text, /2\. inbound at 127\.0\.0\.1:\d+/);
  assert.match(text, /attempts: {2}2 \(127\.0\.0\.1:\d+, then 127\.0\.0\.1:\d+\)/);
  assert.match(text, /retried: 1 more attempt\(s\) after a failure, then succeeded/);

  const unknown = capture();
  assert.equal(await explainCommand.run(['no-such-id', '--admin', admins], unknown.io), 1);
  assert.match(unknown.err.join('\n'), /no sidecar remembers request no-such-id \(asked 2, 2 answered\)/);

  const failures = await getJson<{ failures: unknown[] }>(caller.adminPort, '/requests');
  assert.equal(failures.status, 200);
});
