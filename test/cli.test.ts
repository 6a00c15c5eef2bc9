import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const CLI = fileURLToPath(new URL('../cli/outrigger.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });

test('outrigger --help lists every command', () => {
  const result = run('--help');
  assert.equal(result.status, 0);
  for (const name of ['sidecar', 'validate']) assert.match(result.stdout, new RegExp(`^  ${name} `, 'm'));
});

test('outrigger sidecar --help documents each flag with its environment variable', () => {
  const result = run('sidecar', '--help');
  assert.equal(result.status, 0);
  for (const flag of ['--service', '--app', '--inbound', '--outbound', '--admin', '--config']) assert.ok(result.stdout.includes(flag), flag);
  assert.ok(result.stdout.includes('OUTRIGGER_INBOUND'));
  assert.ok(result.stdout.includes('default 15006'));
});

test('a second start strips no TypeScript: every module comes from the compile cache', (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'outrigger-compile-cache-'));
  t.after(() => rmSync(cache, { recursive: true, force: true }));
  const start = () =>
    spawnSync(process.execPath, [CLI, 'sidecar', '--help'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, NODE_COMPILE_CACHE: cache, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' } });
  const stripped = (stderr: string) => [...stderr.matchAll(/no transpile cache for StrippedTypeScript (\S+)/g)].map((m) => m[1]);
  const first = start();
  assert.equal(first.status, 0, first.stderr);
  assert.ok(stripped(first.stderr).some((url) => url?.endsWith('/cli/commands/sidecar.ts')), 'the first start fills the cache');
  const second = start();
  assert.equal(second.status, 0, second.stderr);
  // A TypeScript entry file would be stripped before it could turn the cache on, loading the stripper every time.
  assert.deepEqual(stripped(second.stderr), []);
  assert.match(second.stderr, /retrieving transpile cache for StrippedTypeScript \S+\/cli\/commands\/sidecar\.ts\.\.\.success/);
});

test('an unknown command or flag is a clear error, not a stack trace', () => {
  const unknown = run('sidcar');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "sidcar"/);
  const badFlag = run('sidecar', '--servce', 'x');
  assert.equal(badFlag.status, 2);
  assert.match(badFlag.stderr, /--servce/);
  assert.ok(!badFlag.stderr.includes('    at '), 'no stack trace');
});

test('the sidecar refuses to start on an invalid config and says where the error is', () => {
  const dir = fileURLToPath(new URL('../policy/testdata/', import.meta.url));
  const result = run('sidecar', '--service', 'x', '--app', '127.0.0.1:1', '--config', `${dir}does-not-exist.yaml`, '--admin', '0', '--inbound', '0', '--outbound', '0');
  assert.equal(result.status, 1);
  assert.match(result.stderr, /does-not-exist\.yaml/);
});
