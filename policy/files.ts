import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileError, MAX_FILE_BYTES } from './documents.ts';
import type { ConfigError, PolicyText } from './types.ts';

const POLICY_FILE = /\.ya?ml$/;

/**
 * Reads the policy files named by `paths`: files as given, folders searched recursively for `*.yaml` and `*.yml`.
 * Dotfiles and dot-folders are skipped; symlinks are followed, since a Kubernetes ConfigMap mount is made of them
 * (`routes.yaml -> ..data/routes.yaml`, where `..data` itself is skipped).
 */
export async function readPolicyFiles(paths: readonly string[]): Promise<{ texts: PolicyText[]; errors: ConfigError[] }> {
  const errors: ConfigError[] = [];
  const files = new Set<string>();
  for (const path of paths) {
    const kind = await kindOf(path);
    if (kind === 'missing') errors.push(fileError(path, 'no such file or directory'));
    else if (kind === 'other') errors.push(fileError(path, 'not a regular file or folder'));
    else if (kind === 'file') files.add(path);
    else {
      try {
        const found = await findPolicyFiles(path, new Set());
        if (found.length === 0) errors.push(fileError(path, 'folder holds no .yaml or .yml files'));
        for (const file of found) files.add(file);
      } catch (error) {
        errors.push(fileError(path, `cannot read folder: ${describeError(error)}`));
      }
    }
  }
  const texts: PolicyText[] = [];
  for (const file of [...files].sort()) {
    const read = await readPolicyFile(file);
    if ('error' in read) errors.push(read.error);
    else texts.push(read);
  }
  return { texts, errors };
}

async function findPolicyFiles(folder: string, visited: Set<string>): Promise<string[]> {
  // A symlink back to an ancestor would otherwise recurse forever.
  const real = await realpath(folder);
  if (visited.has(real)) return [];
  visited.add(real);
  const found: string[] = [];
  const entries = (await readdir(folder)).filter((name) => !name.startsWith('.')).sort();
  for (const name of entries) {
    const path = join(folder, name);
    const kind = await kindOf(path);
    if (kind === 'folder') found.push(...(await findPolicyFiles(path, visited)));
    else if (kind === 'file' && POLICY_FILE.test(name)) found.push(path);
  }
  return found;
}

async function readPolicyFile(file: string): Promise<PolicyText | { error: ConfigError }> {
  try {
    const { size } = await stat(file);
    if (size > MAX_FILE_BYTES) return { error: fileError(file, `file is ${size} bytes; the limit is ${MAX_FILE_BYTES} (4 MiB)`) };
    return { file, text: await readFile(file, 'utf8') };
  } catch (error) {
    return { error: fileError(file, `cannot read: ${describeError(error)}`) };
  }
}

async function kindOf(path: string): Promise<'file' | 'folder' | 'other' | 'missing'> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) return 'folder';
    // Sockets and FIFOs are left alone: reading a FIFO would block the load.
    return info.isFile() ? 'file' : 'other';
  } catch {
    // A dangling symlink or an unreadable entry is as good as absent here.
    return 'missing';
  }
}

function describeError(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}
