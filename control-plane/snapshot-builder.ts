import type { KeyObject } from 'node:crypto';
import { relative, sep } from 'node:path';
import { readPolicyFiles } from '../policy/files.ts';
import { watchPolicyPath, type PathWatch } from '../policy/watch-path.ts';
import { loadPolicyTexts } from '../policy/load.ts';
import type { ConfigError, LoadOptions } from '../policy/load.ts';
import { signSnapshot } from '../policy/snapshot/sign.ts';
import { contentHash, encodeSignedSnapshot, makeSnapshot } from '../policy/snapshot/snapshot.ts';
import type { SignedSnapshot, Snapshot, SnapshotFile } from '../policy/snapshot/snapshot.ts';

export interface BuiltSnapshot {
  snapshot: Snapshot;
  signed: SignedSnapshot;
  /** encodeSignedSnapshot(signed), ready to serve to peers */
  bytes: Uint8Array;
}

/**
 * `changed: true` is a new snapshot; `changed: false` means the folder still holds the last snapshot's content.
 * On `ok: false` the last good snapshot stays in force.
 */
export type BuildResult =
  | ({ ok: true; changed: true } & BuiltSnapshot)
  | { ok: true; changed: false; snapshot: Snapshot }
  | { ok: false; errors: ConfigError[] };

export interface SnapshotBuilderOptions {
  /** The policy folder; file names in snapshots and errors are relative to it. */
  folder: string;
  privateKey: KeyObject;
  /**
   * Called with every new snapshot, with every failure unless it repeats the previous failure exactly, and with
   * `changed: false` when a build succeeds right after a failure (the folder is back to the last good content).
   */
  onBuild: (result: BuildResult) => void;
  /** Build this long after the last change of a burst (default 100 ms)… */
  quietMs?: number;
  /** …but no later than this after its first change (default 10 s), however long the burst goes on. */
  maxWaitMs?: number;
  loadOptions?: LoadOptions;
  /** Policy texts from elsewhere (the Kubernetes API), validated and signed with the folder's; call `changed()` when they change. */
  extraFiles?: () => SnapshotFile[];
  /** Watch failures and errors thrown by onBuild; default: process.emitWarning. */
  onError?: (error: Error) => void;
}

/**
 * Turns a policy folder into signed snapshots, rebuilding when the folder changes. Call noteKnownVersion with
 * versions seen from peers (before start() too, e.g. from a persisted snapshot) so that versions only grow
 * across replicas and restarts.
 */
export class SnapshotBuilder {
  private readonly options: SnapshotBuilderOptions;
  private readonly quietMs: number;
  private readonly maxWaitMs: number;
  private readonly onError: (error: Error) => void;
  private watcher: PathWatch | undefined;
  private quietTimer: NodeJS.Timeout | undefined;
  private maxTimer: NodeJS.Timeout | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private queued: Promise<BuildResult> | undefined;
  private latest: BuiltSnapshot | undefined;
  private highestKnown = 0;
  private lastFailure: string | undefined;
  private buildCount = 0;
  private closed = false;

  constructor(options: SnapshotBuilderOptions) {
    this.options = options;
    this.quietMs = options.quietMs ?? 100;
    this.maxWaitMs = options.maxWaitMs ?? 10_000;
    this.onError = options.onError ?? ((error) => process.emitWarning(error));
  }

  /** The last good snapshot this builder built. */
  get last(): BuiltSnapshot | undefined {
    return this.latest;
  }

  /** How many builds have run (each reads and validates the whole folder). */
  get builds(): number {
    return this.buildCount;
  }

  /** Starts watching the folder and builds once. */
  start(): Promise<BuildResult> {
    if (!this.watcher && !this.closed) {
      try {
        // Events on dot entries are not filtered out: a ConfigMap update is exactly a rename of `..data`.
        this.watcher = watchPolicyPath(this.options.folder, () => this.changed(), (error) => this.onError(error));
      } catch (error) {
        this.onError(asError(error));
      }
    }
    return this.build();
  }

  /** Something in the folder changed: build once the burst is over (quietMs), or at most maxWaitMs after its start. */
  changed(): void {
    if (this.closed) return;
    clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.fire(), this.quietMs);
    this.maxTimer ??= setTimeout(() => this.fire(), this.maxWaitMs);
  }

  /** Raises the floor for the next version to `version` + 1. */
  noteKnownVersion(version: number): void {
    if (!Number.isSafeInteger(version) || version < 0) throw new RangeError(`a snapshot version is a non-negative integer, got ${version}`);
    this.highestKnown = Math.max(this.highestKnown, version);
  }

  /** Builds now. Builds never overlap; calls made while one is waiting to start share it. */
  build(): Promise<BuildResult> {
    if (this.queued) return this.queued;
    const next = this.queue.then(() => {
      this.queued = undefined;
      return this.runBuild();
    });
    this.queued = next;
    this.queue = next;
    return next;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clearTimers();
    this.watcher?.close();
    this.watcher = undefined;
    await this.queue;
  }

  private fire(): void {
    this.clearTimers();
    void this.build();
  }

  private clearTimers(): void {
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    this.quietTimer = undefined;
    this.maxTimer = undefined;
  }

  /** Never rejects: read and validation problems become errors in the result. */
  private async runBuild(): Promise<BuildResult> {
    this.buildCount++;
    let result: BuildResult;
    let emit: boolean;
    try {
      const files = await this.readFolder();
      if ('errors' in files) {
        result = { ok: false, errors: files.errors };
      } else if (this.latest && contentHash(files) === this.latest.snapshot.hash) {
        result = { ok: true, changed: false, snapshot: this.latest.snapshot };
      } else {
        result = this.sign(files);
      }
    } catch (error) {
      result = { ok: false, errors: [{ file: '.', line: 1, column: 1, path: '', message: `cannot build a snapshot: ${asError(error).message}` }] };
    }
    if (result.ok) {
      emit = result.changed || this.lastFailure !== undefined;
      this.lastFailure = undefined;
    } else {
      const key = JSON.stringify(result.errors);
      emit = key !== this.lastFailure;
      this.lastFailure = key;
    }
    if (emit && !this.closed) {
      try {
        this.options.onBuild(result);
      } catch (error) {
        this.onError(asError(error));
      }
    }
    return result;
  }

  private async readFolder(): Promise<SnapshotFile[] | { errors: ConfigError[] }> {
    const read = await readPolicyFiles([this.options.folder]);
    if (read.errors.length > 0) return { errors: read.errors.map((error) => ({ ...error, file: this.nameOf(error.file) })) };
    const files = [...read.texts.map(({ file, text }) => ({ name: this.nameOf(file), text })), ...(this.options.extraFiles?.() ?? [])];
    const loaded = loadPolicyTexts(files.map(({ name, text }) => ({ file: name, text })), this.options.loadOptions);
    return loaded.ok ? files : { errors: loaded.errors };
  }

  private sign(files: SnapshotFile[]): BuildResult {
    const version = Math.max(this.latest?.snapshot.version ?? 0, this.highestKnown) + 1;
    // makeSnapshot may refuse what the loader accepts (too many files, odd names): that surfaces as an error.
    const snapshot = makeSnapshot(version, files);
    const signed = signSnapshot(snapshot, this.options.privateKey);
    this.latest = { snapshot, signed, bytes: encodeSignedSnapshot(signed) };
    return { ok: true, changed: true, ...this.latest };
  }

  private nameOf(path: string): string {
    return relative(this.options.folder, path).split(sep).join('/') || '.';
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
