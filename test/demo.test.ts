import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const DEMO = fileURLToPath(new URL('../examples/local/demo.ts', import.meta.url));

test('the local demo mesh starts, carries traffic through both hops without errors, and stops cleanly', () => {
  const result = spawnSync(process.execPath, [DEMO, '--duration', '3', '--rate', '20', '--base-port', '21000', '--exit'], { encoding: 'utf8', timeout: 90_000 });
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /All 3 sidecars ready/);
  const total = /Total: (\d+) requests, (\d+) ok/.exec(result.stdout);
  assert.ok(total, result.stdout);
  assert.ok(Number(total[1]) >= 30, 'traffic flowed');
  assert.equal(total[1], total[2], 'every request succeeded');
  assert.match(result.stdout, /catalog-1 \d+, catalog-2 \d+/, 'both replicas served');
  assert.match(result.stdout, /Stopped 6 processes .* Nothing is left running\./);
  for (const pid of [...(/PIDs ([\d, ]+)\)/.exec(result.stdout)?.[1] ?? '').matchAll(/\d+/g)].map(Number)) {
    assert.throws(() => process.kill(pid, 0), 'process is gone');
  }
});
