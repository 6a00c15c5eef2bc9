import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPersistedSnapshot, saveSnapshot, SNAPSHOT_FILE_NAME } from './persist.ts';

describe('persisted snapshot', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'outrigger-persist-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is undefined before anything was saved, even without the folder', async () => {
    assert.equal(await loadPersistedSnapshot(join(root, 'missing')), undefined);
  });

  it('round-trips, creating the folder, and replaces the previous one leaving no temp file', async () => {
    const dir = join(root, 'a', 'b');
    await saveSnapshot(dir, Buffer.from('first'));
    assert.deepEqual(await loadPersistedSnapshot(dir), new Uint8Array(Buffer.from('first')));
    await saveSnapshot(dir, new Uint8Array([1, 2, 3]));
    assert.deepEqual(await loadPersistedSnapshot(dir), new Uint8Array([1, 2, 3]));
    assert.deepEqual(await readdir(dir), [SNAPSHOT_FILE_NAME]);
  });

  it('keeps the old snapshot when a save crashed mid-write, and later clears the leftover', async () => {
    const dir = join(root, 'crash');
    await saveSnapshot(dir, Buffer.from('good'));
    // What a crash between writing and renaming leaves behind: a partial temp file.
    const leftover = join(dir, `${SNAPSHOT_FILE_NAME}.tmp-99999-abcdef`);
    await writeFile(leftover, 'half a snaps');
    assert.deepEqual(await loadPersistedSnapshot(dir), new Uint8Array(Buffer.from('good')));

    // A recent temp file may be another save in progress, so only old ones are removed.
    await saveSnapshot(dir, Buffer.from('newer'));
    assert.ok((await readdir(dir)).includes(`${SNAPSHOT_FILE_NAME}.tmp-99999-abcdef`));
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(leftover, twoHoursAgo, twoHoursAgo);
    await saveSnapshot(dir, Buffer.from('newest'));
    assert.deepEqual(await readdir(dir), [SNAPSHOT_FILE_NAME]);
    assert.deepEqual(await loadPersistedSnapshot(dir), new Uint8Array(Buffer.from('newest')));
  });

  it('concurrent saves leave one complete snapshot', async () => {
    const dir = join(root, 'concurrent');
    const contents = Array.from({ length: 10 }, (_, i) => Buffer.alloc(64 * 1024, i));
    await Promise.all(contents.map((bytes) => saveSnapshot(dir, bytes)));
    const loaded = await loadPersistedSnapshot(dir);
    assert.ok(loaded && contents.some((bytes) => bytes.equals(loaded)));
    assert.deepEqual(await readdir(dir), [SNAPSHOT_FILE_NAME]);
  });

  it('refuses to read a file larger than any snapshot', async () => {
    const dir = join(root, 'huge');
    await saveSnapshot(dir, Buffer.from('x'));
    await truncate(join(dir, SNAPSHOT_FILE_NAME), 33 * 1024 * 1024);
    await assert.rejects(loadPersistedSnapshot(dir), /a snapshot is at most 33554432/);
  });
});
