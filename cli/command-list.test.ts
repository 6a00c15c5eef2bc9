import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { COMMANDS } from './command-list.ts';

describe('command list', () => {
  it('loads, for each listed name, the command of that name', async () => {
    for (const entry of COMMANDS) {
      const command = await entry.load();
      assert.equal(command.name, entry.name);
      assert.match(command.usage, new RegExp(`outrigger ${entry.name}\\b`));
    }
  });

  it('keeps a sidecar process free of the control plane and of Node\'s bundled fetch', () => {
    const url = (path: string): string => JSON.stringify(new URL(path, import.meta.url).href);
    const probe = `
      import { registerHooks } from 'node:module';
      const loaded = [];
      registerHooks({ resolve: (specifier, context, next) => { const found = next(specifier, context); loaded.push(found.url); return found; } });
      const { COMMANDS } = await import(${url('./command-list.ts')});
      await COMMANDS.find((c) => c.name === 'sidecar').load();
      const controlPlane = loaded.filter((u) => u.includes('/control-plane/'));
      const bundledFetch = process.moduleLoadList.includes('NativeModule internal/deps/undici/undici');
      console.log(JSON.stringify({ controlPlane, bundledFetch }));`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    // An ESM import of node:http brings Node's bundled undici (fetch, WebSocket): 13–16 MB and ~50 ms of start-up
    // the sidecar does not need; the listeners take node:http through process.getBuiltinModule instead.
    assert.deepEqual(JSON.parse(result.stdout), { controlPlane: [], bundledFetch: false });
  });
});
