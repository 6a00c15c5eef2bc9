import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPolicyEvent, watchPolicyPath } from './watch-path.ts';

test('which events count: the file itself, YAML, folders, ConfigMap swaps, gone entries; not a log beside them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outrigger-watch-'));
  mkdirSync(join(dir, 'team-a'));
  writeFileSync(join(dir, 'sidecar.log'), 'x');
  assert.equal(isPolicyEvent(dir, 'config.yaml', 'config.yaml'), true);
  assert.equal(isPolicyEvent(dir, 'sidecar.log', 'config.yaml'), false);
  assert.equal(isPolicyEvent(dir, 'other.yaml', 'config.yaml'), false, 'watching one file, other files do not count');
  assert.equal(isPolicyEvent(dir, '..data', 'config.yaml'), true);
  assert.equal(isPolicyEvent(dir, null, 'config.yaml'), true);
  assert.equal(isPolicyEvent(dir, 'routes.YML', undefined), true);
  assert.equal(isPolicyEvent(dir, 'team-a', undefined), true, 'a new subfolder');
  assert.equal(isPolicyEvent(dir, 'removed-folder', undefined), true, 'an entry that is gone');
  assert.equal(isPolicyEvent(dir, 'sidecar.log', undefined), false);
  rmSync(dir, { recursive: true });
});

test('a busy log file beside the config causes no change events, and does not hide a real one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'outrigger-watch-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(config, 'a: 1\n');
  for (const target of [config, dir]) {
    let changes = 0;
    const watch = watchPolicyPath(target, () => changes++, (error) => assert.fail(error));
    try {
      for (let i = 0; i < 20; i++) {
        appendFileSync(join(dir, 'sidecar.log'), `line ${i}\n`);
        await sleep(5);
      }
      await sleep(100);
      assert.equal(changes, 0, `log writes counted as changes (watching ${target === dir ? 'the folder' : 'the file'})`);
      writeFileSync(config, 'a: 2\n');
      const deadline = Date.now() + 2_000;
      while (changes === 0 && Date.now() < deadline) await sleep(10);
      assert.ok(changes > 0, 'the config change was seen');
    } finally {
      watch.close();
    }
  }
  rmSync(dir, { recursive: true });
});
