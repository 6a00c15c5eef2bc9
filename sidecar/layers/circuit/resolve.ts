import type { z } from 'zod';
import type { circuitBreaker } from '../../../policy/schema/traffic-policy.ts';

export type CircuitBreakerSpec = z.output<typeof circuitBreaker>;

/** Per upstream Service limits, always enforced. */
export interface ConcurrencyLimits {
  /** Connections the Service's pools may open in all; the pending model and the pool sizes derive from it. */
  maxConnections: number;
  /** Requests admitted beyond the connection capacity, i.e. waiting in a pool for a connection. */
  maxPendingRequests: number;
  /** Requests in flight to the Service, retries included. */
  maxParallelRequests: number;
  /** Retry passes in flight to the Service. */
  maxParallelRetries: number;
}

/** The error-rate breaker's settings; it exists only when `circuitBreaker.errorRate` is configured. */
export interface ErrorRateOptions {
  /** Opens when the failed share of the window's requests exceeds this (strictly greater, as opossum). */
  thresholdPercent: number;
  /** Requests the window must hold before it may open. */
  volumeThreshold: number;
  /** Rolling statistics window (opossum `rollingCountTimeout`, 10 buckets). */
  windowMs: number;
  /** Time open before one probe request is let through. */
  resetTimeoutMs: number;
}

/**
 * Defaults and where they come from:
 * - limits: Envoy's cluster circuit breaker thresholds (`max_connections`, `max_pending_requests`,
 *   `max_requests` 1024, `max_retries` 3). Istio leaves retries unlimited; we keep Envoy's 3, so a retry storm
 *   cannot multiply load on a struggling Service.
 * - error rate: opossum's `errorThresholdPercentage` 50, `rollingCountTimeout` 10 s and `resetTimeout` 30 s;
 *   the volume threshold 20 is Hystrix's `requestVolumeThreshold` (opossum's 0 would open on the first failure).
 */
export const DEFAULT_CONCURRENCY_LIMITS: Readonly<ConcurrencyLimits> = Object.freeze({
  maxConnections: 1024,
  maxPendingRequests: 1024,
  maxParallelRequests: 1024,
  maxParallelRetries: 3,
});

export const DEFAULT_ERROR_RATE: Readonly<ErrorRateOptions> = Object.freeze({
  thresholdPercent: 50,
  volumeThreshold: 20,
  windowMs: 10_000,
  resetTimeoutMs: 30_000,
});

export function resolveConcurrencyLimits(spec: CircuitBreakerSpec | undefined): ConcurrencyLimits {
  const d = DEFAULT_CONCURRENCY_LIMITS;
  return {
    maxConnections: spec?.maxConnections ?? d.maxConnections,
    maxPendingRequests: spec?.maxPendingRequests ?? d.maxPendingRequests,
    maxParallelRequests: spec?.maxParallelRequests ?? d.maxParallelRequests,
    maxParallelRetries: spec?.maxParallelRetries ?? d.maxParallelRetries,
  };
}

/** Undefined (no breaker) unless `errorRate` is configured: outlier ejection covers the common case. */
export function resolveErrorRate(spec: CircuitBreakerSpec | undefined): ErrorRateOptions | undefined {
  const errorRate = spec?.errorRate;
  if (!errorRate) return undefined;
  const d = DEFAULT_ERROR_RATE;
  return {
    thresholdPercent: errorRate.thresholdPercent ?? d.thresholdPercent,
    volumeThreshold: errorRate.volumeThreshold ?? d.volumeThreshold,
    windowMs: errorRate.window ?? d.windowMs,
    resetTimeoutMs: errorRate.resetTimeout ?? d.resetTimeoutMs,
  };
}

/** Whether two resolved breaker settings are the same, so a config reload can keep the breaker and its state. */
export function sameErrorRate(a: ErrorRateOptions | undefined, b: ErrorRateOptions | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.thresholdPercent === b.thresholdPercent &&
    a.volumeThreshold === b.volumeThreshold &&
    a.windowMs === b.windowMs &&
    a.resetTimeoutMs === b.resetTimeoutMs
  );
}
