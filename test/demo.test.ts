import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { bundledCli } from '../cli/dist.ts';

const DEMO = fileURLToPath(new URL('../examples/local/demo.ts', import.meta.url));
const POLICIES = fileURLToPath(new URL('../examples/local/policies', import.meta.url));
const CLI = bundledCli();

function assertGone(pids: number[]): void {
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), `process ${pid} is gone`);
}

test('the committed demo policies validate, endpoints coming from gossip discovery', () => {
  const result = spawnSync(process.execPath, [CLI, 'validate', '--no-require-endpoints', POLICIES], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /2 HTTPRoute, 2 TrafficPolicy, 1 Mesh/);
});

test('the local demo mesh comes up, hides the flaky replica behind retries and ejection, and stops cleanly', () => {
  const result = spawnSync(process.execPath, [DEMO, '--duration', '5', '--rate', '20', '--base-port', '21000', '--exit'], { encoding: 'utf8', timeout: 60_000 });
  const out = `${result.stdout}\n${result.stderr}`;
  assert.equal(result.status, 0, out);
  assert.match(result.stdout, /Control plane and all 5 sidecars ready, joined by gossip/, out);
  assert.match(result.stdout, /dashboard \(API root\) http:\/\/127\.0\.0\.1:21000\//);

  const total = /Total: (\d+) requests, (\d+) ok/.exec(result.stdout);
  assert.ok(total, out);
  const [sent, ok] = [Number(total[1]), Number(total[2])];
  assert.ok(sent >= 50, `traffic flowed: ${sent} requests`);
  assert.ok(ok / sent >= 0.99, `≥ 99 % success despite the flaky replica: ${ok}/${sent}\n${out}`);
  assert.match(result.stdout, /served by catalog-1 \d+, catalog-2 \d+/, 'the healthy replicas served');

  const resilience = /Resilience: (\d+) retries .*?, (\d+) ejections/.exec(result.stdout);
  assert.ok(resilience, out);
  assert.ok(Number(resilience[1]) + Number(resilience[2]) > 0, `the flaky replica was retried around or ejected\n${out}`);

  assert.match(result.stdout, /Stopped 11 processes .* Nothing is left running\./);
  assertGone([...(/PIDs ([\d, ]+)\)/.exec(result.stdout)?.[1] ?? '').matchAll(/\d+/g)].map(Number));
});

test('a busy port stops the demo before it starts anything, naming the port and --base-port', async () => {
  const blocker = createServer();
  blocker.listen(21120, '127.0.0.1');
  await once(blocker, 'listening');
  try {
    const result = spawnSync(process.execPath, [DEMO, '--duration', '1', '--base-port', '21100', '--exit'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 1, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stderr, /port 21120 \(frontend sidecar inbound\) is already in use.*--base-port/);
    assert.match(result.stdout, /Stopped 0 processes\. Nothing is left running\./);
  } finally {
    blocker.close();
  }
});
