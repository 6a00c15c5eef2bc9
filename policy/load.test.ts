import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadPolicyPath, loadPolicyPaths, loadPolicyTexts } from './load.ts';
import type { LoadResult, PolicySet } from './load.ts';

const VALID = join(import.meta.dirname, 'testdata', 'valid');

function policyOf(result: LoadResult): PolicySet {
  if (!result.ok) assert.fail(`expected ok, got errors:\n${result.errors.map((e) => `${e.file}:${e.line}:${e.column}: ${e.path}: ${e.message}`).join('\n')}`);
  return result.policy;
}

describe('loadPolicyPath on a folder', () => {
  it('loads every yaml and yml file recursively, sorted, skipping dotfiles', async () => {
    const policy = policyOf(await loadPolicyPath(VALID));
    assert.deepEqual(
      policy.files.map((file) => file.slice(VALID.length + 1)),
      ['endpoints.yaml', 'mesh.yaml', join('policies', 'catalog.yml'), 'routes.yaml'],
    );
    assert.deepEqual(
      [policy.routes.length, policy.trafficPolicies.length, policy.endpoints.length, policy.mesh ? 1 : 0],
      [2, 1, 3, 1],
    );
  });

  it('records the file and the line where each resource starts', async () => {
    const policy = policyOf(await loadPolicyPath(VALID));
    const where = policy.routes.map(({ resource, file, line }) => [resource.metadata.name, file.slice(VALID.length + 1), line]);
    assert.deepEqual(where, [
      ['catalog', 'routes.yaml', 3],
      ['reviews', 'routes.yaml', 43],
    ]);
    assert.deepEqual(policy.endpoints.map(({ line }) => line), [1, 11, 18]);
  });

  it('applies schema defaults and converts durations to milliseconds', async () => {
    const policy = policyOf(await loadPolicyPath(VALID));
    const [catalog, reviews] = policy.routes.map(({ resource }) => resource);
    assert.equal(reviews?.metadata.namespace, 'default');
    assert.deepEqual(reviews?.spec.rules, [{}]);
    assert.deepEqual(reviews?.spec.parentRefs, [{ group: '', kind: 'Service', name: 'reviews' }]);
    const canary = catalog?.spec.rules[0];
    assert.deepEqual(canary?.timeouts, { request: 5000, backendRequest: 1500 });
    assert.equal(canary?.retry?.backoff, 100);
    assert.equal(catalog?.spec.rules[1]?.backendRefs?.[0]?.weight, 1);
    assert.equal(policy.endpoints[0]?.resource.spec.endpoints[0]?.weight, 1);
    const mesh = policy.mesh?.resource.spec;
    assert.equal(mesh?.clusterDomain, 'cluster.local');
    assert.equal(mesh?.reasonHeader, 'Always');
    assert.equal(mesh?.defaults.timeout?.http?.requestTimeout, 15_000);
    assert.deepEqual(mesh?.upstream, { maxConnectionsPerEndpoint: 128, idleTimeout: 4_000 });
  });

  it('hashes content: same texts give the same hash, any change gives another', async () => {
    const first = policyOf(await loadPolicyPath(VALID));
    const again = policyOf(await loadPolicyPath(VALID));
    assert.match(first.hash, /^[0-9a-f]{64}$/);
    assert.equal(again.hash, first.hash);
    const texts = [
      { file: 'a.yaml', text: '# a\n' },
      { file: 'b.yaml', text: '# b\n' },
    ];
    const hash = policyOf(loadPolicyTexts(texts)).hash;
    assert.equal(policyOf(loadPolicyTexts([...texts].reverse())).hash, hash, 'order of input does not matter');
    assert.notEqual(policyOf(loadPolicyTexts([{ file: 'a.yaml', text: '# a\n# b\n' }, { file: 'b.yaml', text: '' }])).hash, hash);
  });

  it('follows symlinked files, as in a Kubernetes ConfigMap mount, and reads each file once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'outrigger-policy-'));
    try {
      await cp(VALID, join(dir, '..data'), { recursive: true });
      await symlink(join('..data', 'routes.yaml'), join(dir, 'routes.yaml'));
      await symlink(join('..data', 'endpoints.yaml'), join(dir, 'endpoints.yaml'));
      await symlink(dir, join(dir, 'loop'));
      const policy = policyOf(await loadPolicyPaths([dir, join(dir, 'routes.yaml')]));
      assert.deepEqual(policy.files.map((file) => file.slice(dir.length + 1)), ['endpoints.yaml', 'routes.yaml']);
      assert.equal(policy.routes.length, 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a missing path and a folder without policy files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'outrigger-policy-'));
    try {
      await writeFile(join(dir, 'notes.txt'), 'not a policy\n');
      const result = await loadPolicyPaths([join(dir, 'nope'), dir]);
      assert.deepEqual(result.ok ? [] : result.errors, [
        { file: dir, line: 1, column: 1, path: '', message: 'folder holds no .yaml or .yml files' },
        { file: join(dir, 'nope'), line: 1, column: 1, path: '', message: 'no such file or directory' },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('loadPolicyTexts', () => {
  it('loads several resources from one file, skipping empty documents', () => {
    const text = `---
# nothing here
---
apiVersion: outrigger.dev/v1alpha1
kind: ServiceEndpoints
metadata: { name: a }
spec: { endpoints: [{ address: "10.0.0.1:80" }] }
---
---
apiVersion: outrigger.dev/v1alpha1
kind: Mesh
metadata: { name: mesh }
...
`;
    const policy = policyOf(loadPolicyTexts([{ file: 'all.yaml', text }]));
    assert.deepEqual(policy.endpoints.map(({ line }) => line), [4]);
    assert.equal(policy.mesh?.line, 10);
    assert.equal(policy.mesh?.resource.spec.reasonHeader, 'OnRequest');
  });

  it('accepts an empty set', () => {
    const policy = policyOf(loadPolicyTexts([]));
    assert.deepEqual(policy.files, []);
    assert.equal(policy.mesh, undefined);
  });

  it('gives every resource its own default objects', () => {
    const route = (name: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name} }
spec: { parentRefs: [{ name: ${name} }] }
`;
    const policy = policyOf(loadPolicyTexts([{ file: 'r.yaml', text: `${route('a')}---\n${route('b')}` }]));
    const [a, b] = policy.routes;
    assert.notEqual(a?.resource.spec.rules[0], b?.resource.spec.rules[0]);
  });
});
