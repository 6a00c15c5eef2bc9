import { createRequire } from 'node:module';
import type { Redis as RedisClient } from 'ioredis';
import type { Logger } from '../../log.ts';
import { GCRA_LUA, type GcraReply } from './gcra-script.ts';
import type { Decision, Limiter, LimiterStats } from './limiter.ts';
import type { LimitShape } from './token-bucket.ts';

export interface RedisLimiterOptions {
  url: string;
  shape: LimitShape;
  /** Prepended to every bucket key: `outrigger:rl:<namespace>/<service>:`. */
  keyPrefix: string;
  /** `Open` admits requests Redis cannot decide for in time; `Closed` refuses them. */
  failureMode: 'Open' | 'Closed';
  logger: Logger;
  /** Longest a request waits for Redis (default 50 ms). */
  timeoutMs?: number;
  /** Ceiling of the reconnect backoff (default 1 s). */
  reconnectMaxMs?: number;
}

export const DEFAULT_REDIS_TIMEOUT_MS = 50;
/** Requests failing in a row before a backend whose connection is up counts as unavailable: one slow reply is not an outage. */
const FAILURES_FOR_OUTAGE = 3;

interface GcraClient {
  outriggerGcra(key: string, burst: number, intervalUs: number): Promise<GcraReply>;
}

/**
 * A limit shared by every sidecar through Redis. Each request costs one script call that decides atomically and
 * answers at once: nothing is queued, in Redis or here (no offline queue, no retries, no reservoir to refresh), so a
 * request never waits longer than `timeoutMs`. When Redis does not answer by then (down, slow, not yet connected),
 * `failureMode` decides; the outage and the recovery are logged once each and counted.
 */
export class RedisLimiter implements Limiter {
  private readonly client: RedisClient;
  private readonly options: RedisLimiterOptions;
  private readonly timeoutMs: number;
  private readonly where: string;
  private readonly counters = { backendErrors: 0, failedOpen: 0, failedClosed: 0, backendOutages: 0, backendRecoveries: 0 };
  private available = true;
  private everReady = false;
  private sawFailure = false;
  private failuresInARow = 0;
  private closing = false;
  private readonly firstReady: Promise<void>;

  constructor(options: RedisLimiterOptions) {
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
    this.where = redactUrl(options.url);
    const reconnectMaxMs = options.reconnectMaxMs ?? 1_000;
    this.client = new (loadRedis())(options.url, {
      lazyConnect: true, // constructing opens no socket; `connect()` (or the first request) does
      enableOfflineQueue: false, // while disconnected, commands fail at once instead of waiting for a reconnect
      maxRetriesPerRequest: 0, // a command lost with its connection is not resent later (its request was answered)
      commandTimeout: this.timeoutMs, // late replies are dropped by ioredis
      socketTimeout: Math.max(1_000, this.timeoutMs * 20), // a Redis that stopped answering: cut and reconnect
      connectTimeout: 1_000,
      disconnectTimeout: 100, // close() of a limiter whose connection is down must not hold the process for 2 s
      connectionName: 'outrigger-rate-limit',
      retryStrategy: (times) => Math.round(Math.min(reconnectMaxMs, 25 * 2 ** Math.min(times, 10)) * (0.75 + Math.random() * 0.5)),
      scripts: { outriggerGcra: { lua: GCRA_LUA, numberOfKeys: 1 } },
    });
    this.firstReady = new Promise((resolve) => this.client.once('ready', resolve));
    this.client.on('ready', () => {
      this.everReady = true;
      this.markAvailable();
    });
    this.client.on('error', (error: Error) => this.markUnavailable(error.message));
    this.client.on('close', () => this.markUnavailable('connection closed'));
  }

  async take(key: string): Promise<Decision> {
    let timer: NodeJS.Timeout | undefined;
    let expired = false;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        expired = true;
        reject(new Error(`no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
    });
    try {
      const reply = await Promise.race([this.evaluate(this.options.keyPrefix + key, () => expired), deadline]);
      this.failuresInARow = 0;
      this.markAvailable();
      return { allowed: reply[0] === 1, remaining: reply[1], retryAfterMs: reply[2], resetMs: reply[3] };
    } catch (error) {
      return this.failed(error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts connecting now rather than at the first request (construction opens no socket). */
  connect(): void {
    if (this.client.status === 'wait') this.client.connect().catch(() => undefined);
  }

  /** Resolves true once Redis is ready, or false after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<boolean> {
    this.connect();
    if (this.client.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const onReady = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        resolve(false);
      }, timeoutMs);
      this.client.once('ready', onReady);
    });
  }

  stats(): LimiterStats {
    return { ...this.counters, backendAvailable: this.available };
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.client.status === 'ready') {
      await this.client.quit().catch(() => this.client.disconnect());
    } else {
      this.client.disconnect();
    }
  }

  /** Sends the script, after the first connection is up if it is still being made (within the same deadline). */
  private evaluate(key: string, expired: () => boolean): Promise<GcraReply> {
    const client = this.client as unknown as GcraClient;
    const { burst, intervalUs } = this.options.shape;
    const call = (): Promise<GcraReply> => client.outriggerGcra(key, burst, intervalUs);
    if (this.everReady || this.sawFailure || this.closing) return call();
    this.connect();
    return this.firstReady.then(() => (expired() ? Promise.reject(new Error('expired')) : call()));
  }

  private failed(reason: string): Decision {
    this.counters.backendErrors++;
    this.sawFailure = true;
    const connectionDown = this.client.status !== 'ready';
    if (connectionDown || ++this.failuresInARow >= FAILURES_FOR_OUTAGE) this.markUnavailable(reason);
    if (this.options.failureMode === 'Open') {
      this.counters.failedOpen++;
      return { allowed: true, remaining: 0, resetMs: 0, retryAfterMs: 0, failureMode: 'Open' };
    }
    this.counters.failedClosed++;
    return { allowed: false, remaining: 0, resetMs: 1_000, retryAfterMs: 1_000, failureMode: 'Closed' };
  }

  private markUnavailable(reason: string): void {
    this.sawFailure = true;
    if (!this.available || this.closing) return;
    this.available = false;
    this.counters.backendOutages++;
    this.options.logger.warn('rate limit backend unavailable', { redis: this.where, failureMode: this.options.failureMode, reason });
  }

  private markAvailable(): void {
    if (this.available || this.closing) return;
    this.available = true;
    this.counters.backendRecoveries++;
    this.options.logger.info('rate limit backend available again', { redis: this.where });
  }
}

/** The URL without its password, for logs. */
function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1[redacted]@');
}

/**
 * ioredis is loaded on first use: it adds about 10 MB of resident memory, which sidecars without a global rate
 * limit (most of them) should not pay.
 */
function loadRedis(): typeof RedisClient {
  return (createRequire(import.meta.url)('ioredis') as { Redis: typeof RedisClient }).Redis;
}
