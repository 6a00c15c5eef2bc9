import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface PathWatch {
  close(): void;
}

/**
 * Calls `onChange` when anything under a policy file or folder may have changed. Node's recursive `fs.watch` on
 * Linux loses files that are replaced by rename (how editors save and how Kubernetes swaps a ConfigMap's `..data`
 * link), so each folder gets its own non-recursive watch, which sees renames into it; a single file is watched
 * through its folder. New subfolders are picked up on the next event. Callers debounce and compare content.
 *
 * Only events that can change the policy count (`isPolicyEvent`): a log file written beside the config would
 * otherwise cause a reload on every line, and, since callers debounce, hold back a real change for as long as the
 * log stays busy.
 */
export function watchPolicyPath(path: string, onChange: () => void, onError: (error: Error) => void): PathWatch {
  const watchers = new Map<string, FSWatcher>();
  let closed = false;
  const isFile = statSync(path).isFile();
  const file = isFile ? basename(path) : undefined;
  const add = (dir: string): void => {
    if (closed || watchers.has(dir)) return;
    try {
      const watcher = watch(dir, { persistent: false }, (_event, filename) => {
        if (!isPolicyEvent(dir, filename, file)) return;
        if (!isFile) addSubfolders(dir);
        onChange();
      });
      watcher.on('error', (error) => {
        watchers.delete(dir);
        watcher.close();
        // A folder that disappears ends its watch; anything else is worth reporting.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'EPERM') onError(error);
      });
      watchers.set(dir, watcher);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') onError(error as Error);
    }
  };
  const addSubfolders = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const sub = join(dir, entry.name);
      add(sub);
      addSubfolders(sub);
    }
  };
  if (isFile) {
    add(dirname(path));
  } else {
    add(path);
    addSubfolders(path);
  }
  return {
    close() {
      closed = true;
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}

/**
 * Whether a change to `filename` in `dir` can change the policy: the watched file itself (`file`), any YAML file or
 * folder in a watched folder, a Kubernetes ConfigMap's atomic `..data` swap, or an entry that is gone (a removed
 * folder) or that Node could not name.
 */
export function isPolicyEvent(dir: string, filename: string | null, file: string | undefined): boolean {
  if (filename === null || filename.startsWith('..')) return true;
  if (file !== undefined) return filename === file;
  if (/\.ya?ml$/i.test(filename)) return true;
  try {
    return statSync(join(dir, filename)).isDirectory();
  } catch {
    return true;
  }
}
