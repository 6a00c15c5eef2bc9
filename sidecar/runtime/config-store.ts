import { statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { loadPolicyPath, type ConfigError } from '../../policy/load.ts';
import type { Logger } from '../log.ts';
import { compileRuntime, type CompileOptions, type RuntimeConfig } from './compile.ts';
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
}

/**
 * Holds the active config generation. A reload builds a whole new generation and swaps one reference, so a
 * request runs start to end on the generation it began with; an invalid change is logged with file, line and
 * field and the last good generation keeps serving.
 */
export class ConfigStore {
  private active: RuntimeConfig | undefined;
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private generation = 0;
  private reloading: Promise<ReloadStatus> | undefined;
  private reloadAgain = false;
  readonly history: ReloadStatus[] = [];
  reloadFailures = 0;
  private readonly path: string;
  private readonly options: Omit<CompileOptions, 'generation' | 'previous'>;
  private readonly log: Logger;
  private readonly onLoaded: ((config: RuntimeConfig) => void) | undefined;

  /** `onLoaded` runs after each generation is swapped in (the first load included), e.g. to reconfigure tracing. */
  constructor(path: string, options: Omit<CompileOptions, 'generation' | 'previous'>, log: Logger, events: { onLoaded?: (config: RuntimeConfig) => void } = {}) {
    this.path = path;
    this.options = options;
    this.log = log;
    this.onLoaded = events.onLoaded;
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

  /** Loads (or reloads) the config path; concurrent calls coalesce into one more reload. */
  reload(): Promise<ReloadStatus> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = this.doReload().finally(() => {
      this.reloading = undefined;
      if (this.reloadAgain) {
        this.reloadAgain = false;
        void this.reload();
      }
    });
    return this.reloading;
  }

  /**
   * Reloads when files under the config path change, after 100 ms of quiet. A single file is watched through its
   * folder: editors and Kubernetes ConfigMap mounts replace files by rename, which ends a watch on the file itself.
   * Spurious events cost little, since an unchanged content hash is not reloaded.
   */
  watch(): void {
    if (this.watcher) return;
    try {
      const isFile = statSync(this.path).isFile();
      const target = isFile ? dirname(this.path) : this.path;
      this.watcher = watch(target, { recursive: !isFile, persistent: false }, () => {
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.reload(), 100);
      });
      this.watcher.on('error', (error) => this.log.warn('config watch failed; hot reload is off', { error: String(error) }));
    } catch (error) {
      this.log.warn('cannot watch config path; hot reload is off', { path: this.path, error: String(error) });
    }
  }

  close(): void {
    if (this.active) {
      for (const service of this.active.services.values()) retireService(service, undefined);
      retireService(this.active.inbound, undefined);
    }
    clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = undefined;
  }

  private async doReload(): Promise<ReloadStatus> {
    const loaded = await loadPolicyPath(this.path);
    let status: ReloadStatus;
    if (!loaded.ok) {
      status = { ok: false, at: new Date(), errors: loaded.errors };
    } else if (this.active && loaded.policy.hash === this.active.policy.hash) {
      return { ok: true, at: new Date(), errors: [] };
    } else {
      const compiled = compileRuntime(loaded.policy, { ...this.options, generation: this.generation + 1, previous: this.active });
      if (compiled.ok) {
        this.generation++;
        const replaced = this.active;
        this.active = compiled.config;
        if (replaced) retireGeneration(replaced, compiled.config);
        status = { ok: true, at: new Date(), errors: [] };
        this.log.info('config loaded', { version: compiled.config.version, generation: this.generation, files: loaded.policy.files.length });
        try {
          this.onLoaded?.(compiled.config);
        } catch (error) {
          this.log.error('config listener failed', { error: String(error) });
        }
      } else {
        status = { ok: false, at: new Date(), errors: compiled.errors };
      }
    }
    if (!status.ok) {
      this.reloadFailures++;
      for (const e of status.errors) this.log.error(`config rejected: ${e.file}:${e.line}:${e.column}: ${e.path}: ${e.message}`);
      if (this.active) this.log.warn('keeping the last good config', { version: this.active.version });
    }
    this.history.push(status);
    if (this.history.length > 20) this.history.shift();
    return status;
  }
}
