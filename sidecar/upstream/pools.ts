import { Pool } from './undici-pool.ts';

export interface PoolSettings {
  connectionsPerEndpoint: number;
  /** Below the app's keep-alive (Node: 5 s) so a socket the app is closing is never reused. */
  idleTimeoutMs: number;
  connectTimeoutMs: number;
}

/**
 * One undici keep-alive pool per upstream address, shared by every Service and config generation that
 * points at it. Pools whose address left the config are closed gracefully: requests in flight finish.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, { pool: Pool; address: string }>();

  /** The pool for an address with these settings; `key` identifies it for `retain`. */
  get(address: string, settings: PoolSettings): { pool: Pool; key: string } {
    const key = `${address}#${settings.connectionsPerEndpoint}/${settings.idleTimeoutMs}/${settings.connectTimeoutMs}`;
    const found = this.pools.get(key);
    if (found) return { pool: found.pool, key };
    const pool = new Pool(`http://${address}`, {
      connections: settings.connectionsPerEndpoint,
      pipelining: 1,
      keepAliveTimeout: settings.idleTimeoutMs,
      keepAliveMaxTimeout: settings.idleTimeoutMs,
      connectTimeout: settings.connectTimeoutMs,
      maxHeaderSize: 64 * 1024,
      allowH2: false,
    });
    this.pools.set(key, { pool, address });
    return { pool, key };
  }

  /** Closes pools no config uses any more, letting their requests in flight complete. */
  retain(keys: ReadonlySet<string>): void {
    for (const [key, { pool }] of this.pools) {
      if (keys.has(key)) continue;
      this.pools.delete(key);
      void pool.close().catch(() => undefined);
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
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map(({ pool }) => pool.close()));
  }

  async destroy(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map(({ pool }) => pool.destroy()));
  }
}
