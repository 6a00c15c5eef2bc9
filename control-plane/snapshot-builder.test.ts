import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { generateSigningKeys, loadPrivateKey, loadPublicKey } from '../policy/snapshot/keys.ts';
import { verifySnapshot } from '../policy/snapshot/verify.ts';
import { SnapshotBuilder } from './snapshot-builder.ts';
import type { BuildResult, SnapshotBuilderOptions } from './snapshot-builder.ts';

const VALID = join(import.meta.dirname, '..', 'policy', 'testdata', 'valid');
const KEYS = generateSigningKeys();
const PRIVATE = loadPrivateKey(KEYS.privateKeyPem);
const PUBLIC = loadPublicKey(KEYS.publicKeyPem);

let root: string;
let builders: SnapshotBuilder[] = [];
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'outrigger-builder-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(builders.map((b) => b.close()));
  builders = [];
});

let folders = 0;
/** A fresh copy of the valid fixtures, which include a dotfile that must never be read. */
async function policyFolder(): Promise<string> {
  const folder = join(root, `policies-${folders++}`);
  await cp(VALID, folder, { recursive: true });
  return folder;
}

function builder(folder: string, options: Partial<SnapshotBuilderOptions> = {}): { builder: SnapshotBuilder; events: BuildResult[] } {
  const events: BuildResult[] = [];
  const b = new SnapshotBuilder({ folder, privateKey: PRIVATE, onBuild: (e) => events.push(e), quietMs: 30, maxWaitMs: 300, ...options });
  builders.push(b);
  return { builder: b, events };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Writes through a dot-named temp file and a rename, as careful editors and the kubelet do: a plain writeFile
 * truncates first, and a build landing between the truncation and the write would see an empty file.
 */
async function put(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.tmp-${basename(path)}`);
  await writeFile(temp, text);
  await rename(temp, path);
}

/** Appends a comment, so every edit is new content and any build it triggers emits a new snapshot. */
async function edit(folder: string, n: number): Promise<void> {
  const path = join(folder, 'mesh.yaml');
  const text = await readFile(path, 'utf8');
  await put(path, `${text.replace(/\n# edit \d+\n$/, '\n')}# edit ${n}\n`);
}

function versions(events: BuildResult[]): number[] {
  return events.flatMap((e) => (e.ok && e.changed ? [e.snapshot.version] : []));
}

describe('SnapshotBuilder builds', () => {
  it('a verifiable snapshot of the folder, names relative to it, dotfiles skipped', async () => {
    const folder = await policyFolder();
    const { builder: b, events } = builder(folder);
    const result = await b.build();
    assert.ok(result.ok && result.changed);
    assert.deepEqual(result.snapshot.files.map((f) => f.name), ['endpoints.yaml', 'mesh.yaml', 'policies/catalog.yml', 'routes.yaml']);
    assert.equal(result.snapshot.version, 1);
    assert.deepEqual(events, [result]);
    assert.equal(b.last?.bytes, result.bytes);
    const verified = verifySnapshot(result.bytes, { publicKeys: [PUBLIC] });
    assert.ok(verified.ok && !verified.current && verified.snapshot.hash === result.snapshot.hash);
  });

  it('byte-identical snapshots on two replicas with the same key, content and known version', async () => {
    const folder = await policyFolder();
    const a = builder(folder).builder;
    const b = builder(folder, { privateKey: loadPrivateKey(KEYS.privateKeyPem) }).builder;
    a.noteKnownVersion(9);
    b.noteKnownVersion(9);
    const [ra, rb] = [await a.build(), await b.build()];
    assert.ok(ra.ok && ra.changed && rb.ok && rb.changed);
    assert.equal(ra.snapshot.version, 10);
    assert.deepEqual(ra.bytes, rb.bytes);
  });

  it('versions that only grow, above every version noted from peers', async () => {
    const folder = await policyFolder();
    const { builder: b, events } = builder(folder);
    await b.build();
    b.noteKnownVersion(41);
    await edit(folder, 1);
    await b.build();
    b.noteKnownVersion(10);
    await edit(folder, 2);
    await b.build();
    // Unchanged content builds nothing new and emits nothing.
    const same = await b.build();
    assert.ok(same.ok && !same.changed && same.snapshot.version === 43);
    // A failure uses up no version.
    await writeFile(join(folder, 'bad.yaml'), 'kind: [\n');
    assert.equal((await b.build()).ok, false);
    await rm(join(folder, 'bad.yaml'));
    await edit(folder, 3);
    await b.build();
    assert.deepEqual(versions(events), [1, 42, 43, 44]);
    assert.throws(() => b.noteKnownVersion(-1), RangeError);
  });

  it('an error for a folder with nothing to build, named relative to it', async () => {
    const folder = join(root, 'empty');
    await mkdir(folder);
    const result = await builder(folder).builder.build();
    assert.ok(!result.ok);
    assert.deepEqual(result.errors.map((e) => [e.file, e.message]), [['.', 'folder holds no .yaml or .yml files']]);
  });
});

describe('SnapshotBuilder on an invalid edit', () => {
  it('reports file, line and field once, keeps the last good snapshot, and says when the folder is good again', async () => {
    const folder = await policyFolder();
    const { builder: b, events } = builder(folder);
    await b.start();
    await sleep(50);
    const routes = join(folder, 'routes.yaml');
    const good = await readFile(routes, 'utf8');
    await put(routes, good.replace('backendRequest: 1500ms', 'backendRequest: soon'));
    await waitFor(() => events.length === 2, 'the failed build');
    const failed = events[1]!;
    assert.ok(!failed.ok);
    assert.deepEqual(failed.errors.map((e) => [e.file, e.line, e.column, e.path]), [['routes.yaml', 23, 25, 'spec.rules[0].timeouts.backendRequest']]);
    assert.equal(b.last?.snapshot.version, 1);

    // The same failure again (an unrelated file touched) is not reported twice.
    const buildsBefore = b.builds;
    await put(join(folder, 'notes.txt'), 'not policy');
    await waitFor(() => b.builds > buildsBefore, 'a rebuild');
    assert.equal(events.length, 2);

    await put(routes, good);
    await waitFor(() => events.length === 3, 'the recovery');
    assert.ok(events[2]!.ok && !events[2]!.changed && events[2]!.snapshot.version === 1, JSON.stringify(events.slice(1)));
  });
});

describe('SnapshotBuilder debouncing', () => {
  it('builds once for a burst of 20 edits within 300 ms', async () => {
    const folder = await policyFolder();
    const { builder: b, events } = builder(folder, { quietMs: 100, maxWaitMs: 2000 });
    await b.start();
    await sleep(100);
    const buildsBefore = b.builds;
    for (let i = 0; i < 20; i++) {
      await edit(folder, i);
      await sleep(10);
    }
    await waitFor(() => b.builds > buildsBefore, 'the build after the burst');
    await sleep(300);
    assert.equal(b.builds, buildsBefore + 1);
    assert.deepEqual(versions(events), [1, 2]);
    assert.match(b.last!.snapshot.files.find((f) => f.name === 'mesh.yaml')!.text, /# edit 19\n$/);
  });

  it('still builds by the max wait while edits never stop', async () => {
    const folder = await policyFolder();
    // Edits every 50 ms never leave the 150 ms of quiet a build waits for; only the 300 ms max wait fires.
    const { builder: b, events } = builder(folder, { quietMs: 150, maxWaitMs: 300 });
    await b.start();
    await sleep(100);
    const started = Date.now();
    let firstBuildAfter: number | undefined;
    const stop = started + 1200;
    for (let i = 0; Date.now() < stop; i++) {
      await edit(folder, i);
      if (firstBuildAfter === undefined && events.length > 1) firstBuildAfter = Date.now() - started;
      await sleep(50);
    }
    const duringEdits = events.length - 1;
    assert.ok(duringEdits >= 2, `expected builds while editing, got ${duringEdits}`);
    assert.ok(firstBuildAfter !== undefined && firstBuildAfter < 300 + 250, `first build after ${firstBuildAfter} ms`);
    assert.ok(events.every((e) => e.ok));
  });

  it('follows a Kubernetes ConfigMap update (the ..data symlink swapped)', async () => {
    const folder = join(root, 'configmap');
    await mkdir(join(folder, '..2026_01'), { recursive: true });
    await cp(VALID, join(folder, '..2026_01'), { recursive: true });
    await symlink('..2026_01', join(folder, '..data'));
    for (const name of ['endpoints.yaml', 'mesh.yaml', 'routes.yaml', 'policies']) await symlink(join('..data', name), join(folder, name));
    const { builder: b, events } = builder(folder);
    const first = await b.start();
    assert.ok(first.ok && first.changed);
    assert.deepEqual(first.snapshot.files.map((f) => f.name), ['endpoints.yaml', 'mesh.yaml', 'policies/catalog.yml', 'routes.yaml']);
    await sleep(50);

    // What the kubelet does: a new timestamped folder, a new ..data_tmp symlink renamed over ..data.
    await cp(join(folder, '..2026_01'), join(folder, '..2026_02'), { recursive: true });
    await writeFile(join(folder, '..2026_02', 'mesh.yaml'), `${await readFile(join(folder, 'mesh.yaml'), 'utf8')}# v2\n`);
    await symlink('..2026_02', join(folder, '..data_tmp'));
    await rename(join(folder, '..data_tmp'), join(folder, '..data'));
    await rm(join(folder, '..2026_01'), { recursive: true });
    await waitFor(() => versions(events).length === 2, 'the rebuild after the swap');
    assert.match(b.last!.snapshot.files.find((f) => f.name === 'mesh.yaml')!.text, /# v2\n$/);
  });

  it('stops building once closed', async () => {
    const folder = await policyFolder();
    const { builder: b, events } = builder(folder);
    await b.start();
    await edit(folder, 1);
    await b.close();
    const builds = b.builds;
    await edit(folder, 2);
    await sleep(200);
    assert.equal(b.builds, builds);
    assert.deepEqual(versions(events), [1]);
  });
});
