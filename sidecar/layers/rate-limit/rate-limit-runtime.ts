import type { TrafficPolicy } from '../../../policy/schema/traffic-policy.ts';
import type { Logger } from '../../log.ts';
import type { Direction } from '../../pipeline/context.ts';
import type { Limiter } from './limiter.ts';
import type { QuotaPolicy } from './quota-headers.ts';
import { rateLimitLayer, type RateLimitCheck, type RateLimitLayer, type RateLimitStats } from './rate-limit-layer.ts';
import { DEFAULT_REDIS_TIMEOUT_MS, RedisLimiter } from './redis-limiter.ts';
import { requestKey, type KeySpec } from './request-key.ts';
import { limitShape, TokenBuckets, unitSeconds, type LimitShape } from './token-bucket.ts';

export type RateLimitSpec = NonNullable<TrafficPolicy['spec']['rateLimit']>;

export interface ResolvedLimit {
  policy: QuotaPolicy;
  shape: LimitShape;
  key: KeySpec | undefined;
}

export interface ResolvedGlobalLimit extends ResolvedLimit {
  redisUrl: string;
  timeoutMs: number;
  failureMode: 'Open' | 'Closed';
}

/** What one Service's chain in one direction enforces. */
export interface ResolvedRateLimits {
  local: ResolvedLimit | undefined;
  global: ResolvedGlobalLimit | undefined;
  headersOnAllowed: boolean;
}

/**
 * The limits a chain enforces: a Service's `rateLimit` applies to the inbound chain of its own sidecars
 * (`direction: Inbound`, the default) or to the outbound chains of its callers' sidecars (`Outbound`), never both.
 */
export function resolveRateLimits(spec: RateLimitSpec | undefined, direction: Direction): ResolvedRateLimits | undefined {
  if (!spec || spec.direction.toLowerCase() !== direction) return undefined;
  const resolve = (rule: NonNullable<RateLimitSpec['local']>, name: QuotaPolicy['name']): ResolvedLimit => ({
    policy: { name, quota: rule.requests, windowSeconds: unitSeconds(rule.unit) },
    shape: limitShape(rule),
    key: rule.key && (rule.key.type === 'Header' ? { type: 'Header', header: rule.key.header ?? '' } : { type: rule.key.type }),
  });
  const global = spec.global;
  return {
    local: spec.local && resolve(spec.local, 'local'),
    global: global && {
      ...resolve(global, 'global'),
      redisUrl: global.redis.url,
      timeoutMs: global.redis.timeout ?? DEFAULT_REDIS_TIMEOUT_MS,
      failureMode: global.failureMode,
    },
    headersOnAllowed: spec.headers === 'Always',
  };
}

/** A Service's rate limiting for one config generation: the layer, its counters, and what to close. */
export interface RateLimitRuntime {
  /** Equal fingerprints mean equal limits for the same Service: a reload keeps the runtime (buckets, connection). */
  readonly fingerprint: string;
  readonly layer: RateLimitLayer;
  stats(): RateLimitStats;
  /** Resolves true once the global backend is connected (at once without one), false after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface RateLimitDeps {
  logger: Logger;
  /** The runtime this Service had in the previous generation: returned as is when its limits did not change. */
  previous?: RateLimitRuntime | undefined;
  clock?: () => number;
  maxKeys?: number;
  reconnectMaxMs?: number;
}

/** Builds the limiters and the layer; Redis keys are `outrigger:rl:<namespace>/<service>:<bucket key>`. */
export function createRateLimit(resolved: ResolvedRateLimits, service: { name: string; namespace: string }, deps: RateLimitDeps): RateLimitRuntime {
  const fingerprint = JSON.stringify({ service, resolved });
  if (deps.previous?.fingerprint === fingerprint) return deps.previous;
  const checks: RateLimitCheck[] = [];
  const limiters: Limiter[] = [];
  let backend: RedisLimiter | undefined;
  if (resolved.local) {
    const limiter = new TokenBuckets(resolved.local.shape, { ...(deps.clock ? { clock: deps.clock } : {}), ...(deps.maxKeys ? { maxKeys: deps.maxKeys } : {}) });
    limiters.push(limiter);
    checks.push({ policy: resolved.local.policy, key: requestKey(resolved.local.key), limiter });
  }
  if (resolved.global) {
    const g = resolved.global;
    const limiter = new RedisLimiter({
      url: g.redisUrl,
      shape: g.shape,
      keyPrefix: `outrigger:rl:${service.namespace}/${service.name}:`,
      failureMode: g.failureMode,
      timeoutMs: g.timeoutMs,
      logger: deps.logger,
      ...(deps.reconnectMaxMs ? { reconnectMaxMs: deps.reconnectMaxMs } : {}),
    });
    limiter.connect(); // connect while the config is being swapped in, not on the first request
    backend = limiter;
    limiters.push(limiter);
    checks.push({ policy: g.policy, key: requestKey(g.key), limiter });
  }
  const layer = rateLimitLayer(checks, { headersOnAllowed: resolved.headersOnAllowed });
  return {
    fingerprint,
    layer,
    stats: () => layer.stats(),
    whenReady: (timeoutMs) => backend?.whenReady(timeoutMs) ?? Promise.resolve(true),
    close: async () => {
      await Promise.all(limiters.map((l) => l.close()));
    },
  };
}
