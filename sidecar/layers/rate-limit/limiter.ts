/** What a limiter answers for one request: an immediate yes or no, never "wait". */
export interface Decision {
  allowed: boolean;
  /** Whole requests still admitted right now after this one. */
  remaining: number;
  /** Milliseconds until the bucket is full again. */
  resetMs: number;
  /** Milliseconds until a request would be admitted; 0 when this one was. */
  retryAfterMs: number;
  /** Set when the backend could not decide in time and the configured failure mode did. */
  failureMode?: 'Open' | 'Closed';
}

/** Counters a limiter keeps about itself, merged into the layer's stats. */
export interface LimiterStats {
  /** Buckets held in memory (local limiter). */
  keys?: number;
  /** Requests the backend could not decide for (timeout, connection down, script error). */
  backendErrors?: number;
  failedOpen?: number;
  failedClosed?: number;
  /** Times the backend became unavailable, and came back. */
  backendOutages?: number;
  backendRecoveries?: number;
  backendAvailable?: boolean;
}

/** A rate limiter: local (in-process) or global (Redis). `take` consumes one unit for `key` if one is left. */
export interface Limiter {
  take(key: string): Decision | Promise<Decision>;
  stats(): LimiterStats;
  close(): Promise<void>;
}
