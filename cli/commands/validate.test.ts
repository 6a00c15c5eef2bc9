import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateCommand } from './validate.ts';

const VALID = join(import.meta.dirname, '..', '..', 'policy', 'testdata', 'valid');

async function run(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await validateCommand.run(args, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

describe('outrigger validate', () => {
  let dir = '';
  let invalid = '';
  let noEndpoints = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outrigger-validate-'));
    invalid = join(dir, 'invalid.yaml');
    noEndpoints = join(dir, 'no-endpoints.yaml');
    await writeFile(
      invalid,
      `apiVersion: outrigger.dev/v1alpha1
kind: ServiceEndpoints
metadata: { name: catalog }
spec:
  endpoints:
    - address: localhost
      weigth: 2
`,
    );
    await writeFile(
      noEndpoints,
      `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: catalog }
spec:
  parentRefs: [{ name: catalog }]
  rules: [{ backendRefs: [{ name: catalog }] }]
`,
    );
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints a summary and exits 0 for a valid config', async () => {
    const { code, out, err } = await run(VALID);
    assert.equal(code, 0);
    assert.equal(out.length, 1);
    assert.match(out[0] ?? '', /^ok: 7 resources in 4 files \(2 HTTPRoute, 1 TrafficPolicy, 3 ServiceEndpoints, 1 Mesh\), content hash [0-9a-f]{12}$/);
    assert.deepEqual(err, []);
  });

  it('prints each error as file:line:column: path: message, sorted, and exits 1', async () => {
    const { code, out, err } = await run(invalid, noEndpoints);
    assert.equal(code, 1);
    assert.deepEqual(out, [
      `${invalid}:6:16: spec.endpoints[0].address: must be HOST:PORT, e.g. "127.0.0.1:8080" or "[::1]:8080"`,
      `${invalid}:7:7: spec.endpoints[0].weigth: unknown field "weigth" (did you mean "weight"?)`,
      `${noEndpoints}:6:35: spec.rules[0].backendRefs[0].name: Service "default/catalog" has no endpoints: add a ServiceEndpoints with metadata.name "catalog" and metadata.namespace "default"`,
    ]);
    assert.deepEqual(err, ['3 errors']);
  });

  it('skips the endpoints check with --no-require-endpoints', async () => {
    const { code, out } = await run('--no-require-endpoints', noEndpoints);
    assert.equal(code, 0);
    assert.match(out[0] ?? '', /^ok: 1 resource in 1 file \(1 HTTPRoute\), content hash /);
  });

  it('prints one JSON object with --json', async () => {
    const ok = await run('--json', VALID);
    assert.equal(ok.code, 0);
    const summary = JSON.parse(ok.out.join('\n'));
    assert.equal(summary.ok, true);
    assert.deepEqual(summary.resources, { HTTPRoute: 2, TrafficPolicy: 1, ServiceEndpoints: 3, AutoscalingSignal: 0, Mesh: 1 });
    assert.match(summary.hash, /^[0-9a-f]{64}$/);

    const failed = await run('--json', invalid);
    assert.equal(failed.code, 1);
    const report = JSON.parse(failed.out.join('\n'));
    assert.equal(report.ok, false);
    assert.deepEqual(report.errors[1], { file: invalid, line: 7, column: 7, path: 'spec.endpoints[0].weigth', message: 'unknown field "weigth" (did you mean "weight"?)' });
  });

  it('prints usage with --help', async () => {
    const { code, out } = await run('--help');
    assert.equal(code, 0);
    assert.match(out.join('\n'), /^outrigger validate PATH \[PATH\.\.\.\]/);
    assert.match(out.join('\n'), /--no-require-endpoints/);
  });

  it('exits 2 with a clear message for a missing or nonexistent path and for unknown flags', async () => {
    const none = await run();
    assert.equal(none.code, 2);
    assert.equal(none.err[0], 'outrigger validate: missing PATH: name a policy file or folder');

    const nonexistent = await run(join(dir, 'nope.yaml'));
    assert.equal(nonexistent.code, 2);
    assert.equal(nonexistent.err[0], `outrigger validate: no such file or folder: ${join(dir, 'nope.yaml')}`);

    const unknown = await run('--frobnicate', VALID);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err[0] ?? '', /^outrigger validate: Unknown option '--frobnicate'/);
    assert.deepEqual([none.out, nonexistent.out, unknown.out], [[], [], []]);
  });
});
