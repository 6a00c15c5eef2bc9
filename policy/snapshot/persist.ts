import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_SNAPSHOT_BYTES } from './snapshot.ts';

export const SNAPSHOT_FILE_NAME = 'snapshot.bin';
const TEMP_PREFIX = `${SNAPSHOT_FILE_NAME}.tmp-`;
/** Temp files older than this are leftovers of a crash, not a save in progress. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * Replaces `dir/snapshot.bin` atomically: write a temp file, fsync it, rename it over the old one, fsync the
 * folder. A crash at any point leaves either the old snapshot or the new one, never a mix.
 */
export async function saveSnapshot(dir: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    const file = await open(temp, 'wx');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, join(dir, SNAPSHOT_FILE_NAME));
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncFolder(dir);
  await removeStaleTemps(dir);
}

/** The persisted snapshot's bytes, or undefined when none was saved. Not verified: pass them to verifySnapshot. */
export async function loadPersistedSnapshot(dir: string): Promise<Uint8Array | undefined> {
  const path = join(dir, SNAPSHOT_FILE_NAME);
  try {
    const { size } = await stat(path);
    if (size > MAX_SNAPSHOT_BYTES) throw new Error(`${path} is ${size} bytes; a snapshot is at most ${MAX_SNAPSHOT_BYTES}`);
    return new Uint8Array(await readFile(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Makes the rename itself durable; some platforms and file systems cannot fsync a folder, which is fine. */
async function syncFolder(dir: string): Promise<void> {
  try {
    const folder = await open(dir, 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  } catch {
    // best effort
  }
}

async function removeStaleTemps(dir: string): Promise<void> {
  const cutoff = Date.now() - STALE_TEMP_MS;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(TEMP_PREFIX))) {
    const path = join(dir, name);
    // Best effort: a leftover temp file wastes space, nothing more.
    const info = await stat(path).catch(() => undefined);
    if (info && info.mtimeMs < cutoff) await unlink(path).catch(() => undefined);
  }
}
