import type { Decision, Limiter, LimiterStats } from './limiter.ts';

/**
 * Token buckets in GCRA form (the "virtual scheduling" form of the same algorithm, as Linkerd and redis-cell use):
 * instead of a token count and a refill, each bucket keeps one number, its theoretical arrival time (TAT), the
 * instant it will be full again. With capacity B and emission interval T = unit / requests:
 *
 *     tokens(now) = B − max(0, TAT − now) / T
 *
 * and a request is admitted when TAT' = max(TAT, now) + T ≤ now + B·T, i.e. when at least one token is left.
 * Times are integer microseconds, so the arithmetic is exact and tests on a fake clock are deterministic.
 * The Redis script in gcra-script.ts takes the very same steps.
 */
export interface LimitShape {
  /** Capacity: the largest burst admitted at once (`burst`, else `requests`). */
  burst: number;
  /** Microseconds between two tokens (unit / requests, rounded to 1 µs). */
  intervalUs: number;
}

const UNIT_MS = { Second: 1_000, Minute: 60_000, Hour: 3_600_000 } as const;
export type RateUnit = keyof typeof UNIT_MS;

export function unitSeconds(unit: RateUnit): number {
  return UNIT_MS[unit] / 1000;
}

export function limitShape(rule: { requests: number; unit: RateUnit; burst?: number | undefined }): LimitShape {
  return { burst: rule.burst ?? rule.requests, intervalUs: Math.max(1, Math.round((UNIT_MS[rule.unit] * 1000) / rule.requests)) };
}

/** One admission step: the decision and the bucket's new TAT (unchanged when refused). */
export function gcraStep(tatUs: number, nowUs: number, shape: LimitShape): { tatUs: number; decision: Decision } {
  const tolerance = shape.burst * shape.intervalUs;
  const base = Math.max(tatUs, nowUs);
  const next = base + shape.intervalUs;
  const excess = next - nowUs - tolerance;
  if (excess > 0) {
    return { tatUs, decision: { allowed: false, remaining: 0, resetMs: ceilMs(base - nowUs), retryAfterMs: ceilMs(excess) } };
  }
  const remaining = Math.floor((tolerance - (next - nowUs)) / shape.intervalUs);
  return { tatUs: next, decision: { allowed: true, remaining, resetMs: ceilMs(next - nowUs), retryAfterMs: 0 } };
}

function ceilMs(us: number): number {
  return Math.ceil(us / 1000);
}

/** Bounds memory under a key flood (random header values, spoofed addresses): least recently used buckets go first. */
export const DEFAULT_MAX_KEYS = 10_000;

/**
 * One token bucket per key, in this process only, at most `maxKeys` of them. An evicted bucket restarts full, which
 * only matters for keys idle longer than the `maxKeys` others: a flood of new keys cannot push out a busy one.
 */
export class TokenBuckets implements Limiter {
  private readonly tats = new Map<string, number>();
  private readonly shape: LimitShape;
  private readonly maxKeys: number;
  private readonly clock: () => number;

  /** `clock` returns milliseconds from any monotonic origin (default `performance.now()`). */
  constructor(shape: LimitShape, options: { maxKeys?: number; clock?: () => number } = {}) {
    this.shape = shape;
    this.maxKeys = Math.max(1, options.maxKeys ?? DEFAULT_MAX_KEYS);
    this.clock = options.clock ?? (() => performance.now());
  }

  take(key: string): Decision {
    const nowUs = Math.round(this.clock() * 1000);
    const tat = this.tats.get(key);
    const step = gcraStep(tat ?? 0, nowUs, this.shape);
    if (tat !== undefined) this.tats.delete(key); // re-inserted below as the most recently used
    else if (this.tats.size >= this.maxKeys) this.tats.delete(this.tats.keys().next().value as string);
    this.tats.set(key, step.tatUs);
    return step.decision;
  }

  has(key: string): boolean {
    return this.tats.has(key);
  }

  stats(): LimiterStats {
    return { keys: this.tats.size };
  }

  close(): Promise<void> {
    this.tats.clear();
    return Promise.resolve();
  }
}
