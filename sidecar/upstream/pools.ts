import { MAX_UPSTREAM_HEADER_BYTES } from '../http/headers.ts';
import { TrailerDispatcher } from './trailer-dispatcher.ts';
import { Pool } from './undici-pool.ts';

export interface PoolSettings {
  connectionsPerEndpoint: number;
  /** Below the app's keep-alive (Node: 5 s) so a socket the app is closing is never reused. */
  idleTimeoutMs: number;
  connectTimeoutMs: number;
}

/**
 * How long a pool no generation uses stays open. A request that began on a replaced generation can still pick an
 * endpoint from it later (after a retry backoff, say); with endpoints now changing on every discovery update, a pool
 * closed at once would fail such a pick. Within the grace it is served; `get` takes a retiring pool back.
 */
const RETIRE_GRACE_MS = 10_000;

interface Entry {
  pool: Pool;
  /** Created on the first request that announces trailers; most endpoints never need one. */
  trailers: TrailerDispatcher | undefined;
  address: string;
  settings: PoolSettings;
  retiring: NodeJS.Timeout | undefined;
}

export interface PoolHandle {
  pool: Pool;
  key: string;
  /** The client for requests that announce trailers, which undici cannot send (see `TrailerDispatcher`). */
  trailerCapable: () => TrailerDispatcher;
}

function trailerCapable(entry: Entry): TrailerDispatcher {
  entry.trailers ??= new TrailerDispatcher(entry.address, entry.settings);
  return entry.trailers;
}

async function closeEntry(entry: Entry): Promise<void> {
  await Promise.allSettled([entry.pool.close(), entry.trailers?.close()]);
}

/**
 * One undici keep-alive pool per upstream address, shared by every Service and config generation that
 * points at it. Pools whose address left the config are closed gracefully after a grace period: requests in
 * flight finish.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, Entry>();
  private readonly graceMs: number;

  constructor(options: { retireGraceMs?: number } = {}) {
    this.graceMs = options.retireGraceMs ?? RETIRE_GRACE_MS;
  }

  /** The pool for an address with these settings; `key` identifies it for `retain`. */
  get(address: string, settings: PoolSettings): PoolHandle {
    const key = `${address}#${settings.connectionsPerEndpoint}/${settings.idleTimeoutMs}/${settings.connectTimeoutMs}`;
    const found = this.pools.get(key);
    if (found) {
      clearTimeout(found.retiring);
      found.retiring = undefined;
      return { pool: found.pool, key, trailerCapable: () => trailerCapable(found) };
    }
    const pool = new Pool(`http://${address}`, {
      connections: settings.connectionsPerEndpoint,
      pipelining: 1,
      keepAliveTimeout: settings.idleTimeoutMs,
      keepAliveMaxTimeout: settings.idleTimeoutMs,
      connectTimeout: settings.connectTimeoutMs,
      maxHeaderSize: MAX_UPSTREAM_HEADER_BYTES,
      allowH2: false,
    });
    const entry: Entry = { pool, trailers: undefined, address, settings, retiring: undefined };
    this.pools.set(key, entry);
    return { pool, key, trailerCapable: () => trailerCapable(entry) };
  }

  /** Closes pools no config uses any more once the grace has passed, letting their requests in flight complete. */
  retain(keys: ReadonlySet<string>): void {
    for (const [key, entry] of this.pools) {
      if (keys.has(key)) {
        clearTimeout(entry.retiring);
        entry.retiring = undefined;
        continue;
      }
      if (entry.retiring) continue;
      entry.retiring = setTimeout(() => {
        if (this.pools.get(key) !== entry) return;
        this.pools.delete(key);
        void closeEntry(entry);
      }, this.graceMs);
      entry.retiring.unref();
    }
  }

  /** Connection counts summed over every pool to this address. */
  stats(address: string): { connected: number; free: number; pending: number; running: number } {
    const sum = { connected: 0, free: 0, pending: 0, running: 0 };
    for (const entry of this.pools.values()) {
      if (entry.address !== address) continue;
      const s = entry.pool.stats;
      sum.connected += s.connected;
      sum.free += s.free;
      sum.pending += s.pending;
      sum.running += s.running;
    }
    return sum;
  }

  async close(): Promise<void> {
    const all = this.takeAll();
    await Promise.allSettled(all.map(closeEntry));
  }

  async destroy(): Promise<void> {
    const all = this.takeAll();
    for (const entry of all) entry.trailers?.destroy();
    await Promise.allSettled(all.map(({ pool }) => pool.destroy()));
  }

  private takeAll(): Entry[] {
    const all = [...this.pools.values()];
    for (const entry of all) clearTimeout(entry.retiring);
    this.pools.clear();
    return all;
  }
}
