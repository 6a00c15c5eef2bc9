import { watchPolicyPath, type PathWatch } from '../../policy/watch-path.ts';
import { loadPolicyPath, loadPolicyTexts, type ConfigError, type LoadOptions, type LoadResult, type PolicySet } from '../../policy/load.ts';
import { coalesce, type Coalescer } from '../discovery/coalesce.ts';
import type { DiscoverySource } from '../discovery/discovery-source.ts';
import type { Logger } from '../log.ts';
import { compileRuntime, type CompileOptions, type CompileResult, type RuntimeConfig } from './compile.ts';
import { loadPushedFiles, type PushedFile } from './pushed-config.ts';
import { retireService } from './service.ts';

/** Stops the timers and breakers of a replaced generation that the new one did not take over. */
function retireGeneration(old: RuntimeConfig, replacement: RuntimeConfig): void {
  for (const [key, service] of old.services) retireService(service, replacement.services.get(key));
  retireService(old.inbound, replacement.inbound);
}

export interface ReloadStatus {
  ok: boolean;
  at: Date;
  errors: ConfigError[];
  /** The config path, or the label of the pushed config. */
  source: string;
}

export type StoreOptions = Omit<CompileOptions, 'generation' | 'previous' | 'discovered' | 'source'> & {
  /** Endpoints learnt at run time. With one, routes may name Services that have no ServiceEndpoints resource. */
  discovery?: DiscoverySource | undefined;
};

export interface DiscoveryStats {
  /** Services the source knows now. */
  services: number;
  /** Endpoint rebuilds since start; they keep the config's generation. */
  rebuilds: number;
  lastRebuildAt: Date | undefined;
  lastRebuildMs: number | undefined;
}

/** Label of the empty policy a store without a path starts on. */
export const NO_CONFIG_SOURCE = 'none';
/** Discovery changes are applied at most this long after they happen, bursts in one rebuild. */
const DISCOVERY_BATCH_MS = 50;

/**
 * Holds the active config generation. A reload builds a whole new generation and swaps one reference, so a
 * request runs start to end on the generation it began with; an invalid change is logged with file, line and
 * field and the last good generation keeps serving.
 *
 * Config comes from a path (watched), from pushed texts (`applyTexts`), or both; updates apply in call order and the
 * last accepted one serves, its origin in `source`. Discovered endpoints are merged into every generation, and a
 * discovery change rebuilds the current one in place (same generation, unchanged Services reused as they are).
 */
export class ConfigStore {
  private active: RuntimeConfig | undefined;
  private watcher: PathWatch | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private generation = 0;
  /** Updates run one at a time, in call order. */
  private tail: Promise<unknown> = Promise.resolve();
  /** A path reload queued and not started yet: later calls share it, since it will read the files they changed. */
  private queuedReload: Promise<ReloadStatus> | undefined;
  /** Content hash of the path's files when last accepted: unchanged files never replace a pushed config. */
  private pathHash: string | undefined;
  private closed = false;
  readonly history: ReloadStatus[] = [];
  reloadFailures = 0;
  private readonly path: string | undefined;
  private readonly options: Omit<CompileOptions, 'generation' | 'previous'>;
  private readonly loadOptions: LoadOptions;
  private readonly discovery: DiscoverySource | undefined;
  private readonly rebuildSoon: Coalescer;
  private readonly unsubscribe: () => void;
  private readonly rebuildStats = { rebuilds: 0, lastRebuildAt: undefined as Date | undefined, lastRebuildMs: undefined as number | undefined };
  private readonly log: Logger;
  private readonly onLoaded: ((config: RuntimeConfig) => void) | undefined;

  /**
   * `path` undefined: the store starts on an empty policy and takes config only from `applyTexts`.
   * `onLoaded` runs after each config is swapped in (the first load included), e.g. to reconfigure tracing.
   */
  constructor(path: string | undefined, options: StoreOptions, log: Logger, events: { onLoaded?: (config: RuntimeConfig) => void } = {}) {
    const { discovery, ...compileOptions } = options;
    this.path = path;
    this.options = compileOptions;
    this.discovery = discovery;
    this.loadOptions = { requireEndpoints: discovery === undefined };
    this.log = log;
    this.onLoaded = events.onLoaded;
    this.rebuildSoon = coalesce(DISCOVERY_BATCH_MS, () => this.rebuildEndpoints());
    this.unsubscribe = discovery?.subscribe(() => this.rebuildSoon.trigger()) ?? (() => undefined);
  }

  get current(): RuntimeConfig {
    if (!this.active) throw new Error('config not loaded yet');
    return this.active;
  }

  get loaded(): boolean {
    return this.active !== undefined;
  }

  get lastStatus(): ReloadStatus | undefined {
    return this.history[this.history.length - 1];
  }

  /** Undefined without a discovery source. */
  get discoveryStats(): DiscoveryStats | undefined {
    if (!this.discovery) return undefined;
    return { services: this.discovery.current().size, ...this.rebuildStats };
  }

  /**
   * Loads (or reloads) the config path. Without a path, the first call loads the empty policy and later ones change
   * nothing. A call while one is waiting to start shares it.
   */
  reload(): Promise<ReloadStatus> {
    if (this.queuedReload) return this.queuedReload;
    const path = this.path;
    const run = this.enqueue(async () => {
      this.queuedReload = undefined;
      if (path !== undefined) return this.reloadPath(path);
      if (this.active) return { ok: true, at: new Date(), errors: [], source: this.active.source };
      return this.install(loadPolicyTexts([]), NO_CONFIG_SOURCE);
    });
    this.queuedReload = run;
    return run;
  }

  /**
   * Validates pushed policy files as one set and swaps them in, or rejects them with located errors while the last
   * good config keeps serving: the same rules as a reload from the path. `label` names them in `/config_dump` and
   * the logs, e.g. "snapshot v12".
   */
  applyTexts(files: readonly PushedFile[], label: string): Promise<ReloadStatus> {
    return this.enqueue(async () => this.install(loadPushedFiles(files, this.loadOptions), label));
  }

  /**
   * Reloads when files under the config path change, after 100 ms of quiet. A single file is watched through its
   * folder: editors and Kubernetes ConfigMap mounts replace files by rename, which ends a watch on the file itself.
   * Spurious events cost little, since an unchanged content hash is not reloaded.
   */
  watch(): void {
    if (this.watcher || this.path === undefined) return;
    try {
      this.watcher = watchPolicyPath(
        this.path,
        () => {
          clearTimeout(this.debounce);
          this.debounce = setTimeout(() => void this.reload(), 100);
        },
        (error) => this.log.warn('config watch problem; hot reload may miss changes', { error: String(error) }),
      );
    } catch (error) {
      this.log.warn('cannot watch config path; hot reload is off', { path: this.path, error: String(error) });
    }
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    this.rebuildSoon.cancel();
    if (this.active) {
      for (const service of this.active.services.values()) retireService(service, undefined);
      retireService(this.active.inbound, undefined);
    }
    clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = undefined;
  }

  private enqueue(task: () => Promise<ReloadStatus>): Promise<ReloadStatus> {
    const run = this.tail.then(task, task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async reloadPath(path: string): Promise<ReloadStatus> {
    const loaded = await loadPolicyPath(path, this.loadOptions);
    if (loaded.ok && loaded.policy.hash === this.pathHash) return { ok: true, at: new Date(), errors: [], source: path };
    const status = this.install(loaded, path);
    if (status.ok && loaded.ok) this.pathHash = loaded.policy.hash;
    return status;
  }

  /** Compiles and swaps in a loaded policy, or records why not. Synchronous, so it never interleaves with a rebuild. */
  private install(loaded: LoadResult, source: string): ReloadStatus {
    if (this.closed) return { ok: false, at: new Date(), errors: [{ file: '', line: 1, column: 1, path: '', message: 'the sidecar is shutting down' }], source };
    if (!loaded.ok) return this.record({ ok: false, at: new Date(), errors: loaded.errors, source });
    const active = this.active;
    if (active && loaded.policy.hash === active.policy.hash) {
      // The same content under another name (a snapshot re-issued, a path matching the pushed config): relabel only.
      if (active.source !== source) this.active = { ...active, source };
      return { ok: true, at: new Date(), errors: [], source };
    }
    const compiled = this.compile(loaded.policy, this.generation + 1, source);
    if (!compiled.ok) return this.record({ ok: false, at: new Date(), errors: compiled.errors, source });
    this.generation++;
    this.swap(compiled.config);
    this.log.info('config loaded', { version: compiled.config.version, generation: this.generation, files: loaded.policy.files.length, source });
    try {
      this.onLoaded?.(compiled.config);
    } catch (error) {
      this.log.error('config listener failed', { error: String(error) });
    }
    return this.record({ ok: true, at: new Date(), errors: [], source });
  }

  /** Applies what discovery says now to the current config, keeping every Service whose endpoints did not change. */
  private rebuildEndpoints(): void {
    const active = this.active;
    if (!active || this.closed) return;
    const started = performance.now();
    const compiled = this.compile(active.policy, active.generation, active.source);
    if (!compiled.ok) {
      this.log.error('rebuilding endpoints from discovery failed; the current ones keep serving', { error: compiled.errors[0]?.message });
      return;
    }
    this.swap(compiled.config);
    const ms = performance.now() - started;
    this.rebuildStats.rebuilds++;
    this.rebuildStats.lastRebuildAt = new Date();
    this.rebuildStats.lastRebuildMs = Math.round(ms * 100) / 100;
    this.log.debug('endpoints rebuilt from discovery', { ms: this.rebuildStats.lastRebuildMs, services: compiled.config.services.size });
  }

  private compile(policy: PolicySet, generation: number, source: string): CompileResult {
    try {
      return compileRuntime(policy, { ...this.options, generation, previous: this.active, source, discovered: this.discovery?.current() });
    } catch (error) {
      // A bug (or discovery data that slipped past its checks) costs this update, never the serving config.
      return { ok: false, errors: [{ file: policy.files[0] ?? '', line: 1, column: 1, path: '', message: `internal error while compiling: ${String(error)}` }] };
    }
  }

  private swap(next: RuntimeConfig): void {
    const replaced = this.active;
    this.active = next;
    if (replaced) retireGeneration(replaced, next);
  }

  private record(status: ReloadStatus): ReloadStatus {
    if (!status.ok) {
      this.reloadFailures++;
      for (const e of status.errors) this.log.error(`config rejected: ${e.file}:${e.line}:${e.column}: ${e.path}: ${e.message}`, { source: status.source });
      if (this.active) this.log.warn('keeping the last good config', { version: this.active.version, source: this.active.source });
    }
    this.history.push(status);
    if (this.history.length > 20) this.history.shift();
    return status;
  }
}
