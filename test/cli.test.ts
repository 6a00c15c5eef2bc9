import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { bundledCli } from '../cli/dist.ts';
import { SIDECAR_NODE_FLAGS } from '../cli/node-flags.ts';

/** The bundle users run; the compile-cache test below runs the sources' entry, which developers run. */
const CLI = bundledCli();
const SOURCE_CLI = fileURLToPath(new URL('../cli/outrigger.js', import.meta.url));
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
    spawnSync(process.execPath, [SOURCE_CLI, 'sidecar', '--help'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, NODE_COMPILE_CACHE: cache, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' } });
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

test('the bundle keeps the entry\'s shebang and node flags', () => {
  const shebang = readFileSync(CLI, 'utf8').split('\n')[0] ?? '';
  assert.equal(shebang, readFileSync(SOURCE_CLI, 'utf8').split('\n')[0]);
  for (const flag of SIDECAR_NODE_FLAGS) assert.ok(shebang.includes(flag), flag);
});

test('the bundled sidecar loads only its own chunks: no source module, no control plane, no tracing SDK, no bundled fetch', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'outrigger-bundle-probe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const hook = join(dir, 'hook.mjs');
  const out = join(dir, 'loaded.json');
  writeFileSync(
    hook,
    `import { registerHooks } from 'node:module';
    import { writeFileSync } from 'node:fs';
    const loaded = [];
    registerHooks({ resolve: (specifier, context, next) => { const found = next(specifier, context); loaded.push(found.url); return found; } });
    process.on('exit', () => writeFileSync(${JSON.stringify(out)}, JSON.stringify({ loaded, fetch: process.moduleLoadList.includes('NativeModule internal/deps/undici/undici') })));`,
  );
  const result = spawnSync(process.execPath, ['--import', hook, CLI, 'sidecar', '--help'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(result.status, 0, result.stderr);
  const { loaded, fetch } = JSON.parse(readFileSync(out, 'utf8')) as { loaded: string[]; fetch: boolean };
  const files = [...new Set(loaded.filter((url) => url.startsWith('file:')).map((url) => fileURLToPath(url)))];
  const chunks = files.filter((file) => file.startsWith(dirname(CLI)));
  assert.ok(chunks.length > 2, `the sidecar command is a chunk of its own: ${chunks.join(', ')}`);
  assert.deepEqual(files.filter((file) => file.endsWith('.ts')), [], 'no TypeScript source is loaded');
  assert.deepEqual(chunks.filter((file) => /\/(control-plane|kube-policy-source|otel-tracer)-[^/]*\.js$/.test(file)), []);
  // Loaded from node_modules on purpose (sidecar/upstream/undici-pool.ts): undici's Pool only.
  assert.deepEqual(files.filter((file) => !file.startsWith(dirname(CLI)) && !file.includes('/node_modules/undici/lib/')), []);
  assert.equal(fetch, false);
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
