/** The longest `Retry-After` honoured, as Envoy's `rate_limited_retry_back_off` default (300 s). */
export const MAX_RETRY_AFTER_MS = 300_000;

export interface BackoffConfig {
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * Envoy's `JitteredBackOffStrategy`, full jitter: retry `n` (0-based) waits a uniform random time in
 * [0, (2^(n+1) − 1) · base), capped at `max`. With the defaults (25 ms, 250 ms) the ceilings are 25, 75, 175, 375 ms…
 * As in Envoy, the ceiling stops growing once it exceeds `max`, and the sample (not the ceiling) is capped, so late
 * retries often wait exactly `max`.
 */
export function backoffMs(retry: number, config: BackoffConfig, random: () => number): number {
  let multiplier = 1; // 2^1 − 1
  for (let i = 0; i < retry && multiplier * config.baseMs <= config.maxMs; i++) multiplier = multiplier * 2 + 1;
  return Math.min(Math.floor(random() * multiplier * config.baseMs), config.maxMs);
}

/**
 * The wait before retry `n`: the upstream's `Retry-After` when it sent one (capped at 300 s; it is the upstream's
 * explicit request, so it replaces the backoff rather than adding to it), else the jittered backoff.
 */
export function retryWaitMs(retry: number, config: BackoffConfig, random: () => number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs)) return Math.min(Math.max(0, retryAfterMs), MAX_RETRY_AFTER_MS);
  return backoffMs(retry, config, random);
}
