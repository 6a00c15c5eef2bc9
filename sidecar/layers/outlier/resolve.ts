import type { z } from 'zod';
import type { passiveHealthCheck } from '../../../policy/schema/traffic-policy.ts';

export type PassiveHealthCheckSpec = z.output<typeof passiveHealthCheck>;

/** Passive health checking (outlier ejection) for one Service, all durations in ms. */
export interface OutlierOptions {
  /** Consecutive upstream failures (5xx or connect failure, reset, timeout) that eject; 0 disables this trigger. */
  consecutive5xx: number;
  /** Consecutive gateway errors (502, 503, 504, connect failure, reset, timeout) that eject; 0 disables it. */
  consecutiveGatewayErrors: number;
  /** Each interval an endpoint spends un-ejected takes one off its `timesEjected`. */
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionTimeMs: number;
  maxEjectionPercent: number;
}

/**
 * Envoy's outlier detection defaults: `consecutive_5xx` 5, `interval` 10 s, `base_ejection_time` 30 s,
 * `max_ejection_time` 300 s (`max_ejection_percent` differs, see below). `consecutive_gateway_failure` is 5 in Envoy too, though
 * Envoy leaves it unenforced by default (`enforcing_consecutive_gateway_failure` 0) and Istio defaults it to off;
 * here it is on, and since every gateway error is also a 5xx, with equal thresholds it changes nothing but the
 * reason logged.
 */
export const DEFAULT_OUTLIER_DETECTION: Readonly<OutlierOptions> = Object.freeze({
  consecutive5xx: 5,
  consecutiveGatewayErrors: 5,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  // Not Envoy's 10 %: meshes mostly run 2–10 replicas, where 10 % lets at most one endpoint out, so a second bad
  // replica keeps failing requests. Half of the endpoints (rounded up), never the last healthy one.
  maxEjectionPercent: 50,
});

/** On by default; undefined (no detector, no layer) only when configured so that nothing could ever be ejected. */
export function resolveOutlierDetection(spec: PassiveHealthCheckSpec | undefined): OutlierOptions | undefined {
  const d = DEFAULT_OUTLIER_DETECTION;
  const options: OutlierOptions = {
    consecutive5xx: spec?.consecutive5XxErrors ?? d.consecutive5xx,
    consecutiveGatewayErrors: spec?.consecutiveGatewayErrors ?? d.consecutiveGatewayErrors,
    intervalMs: spec?.interval ?? d.intervalMs,
    baseEjectionTimeMs: spec?.baseEjectionTime ?? d.baseEjectionTimeMs,
    maxEjectionTimeMs: spec?.maxEjectionTime ?? d.maxEjectionTimeMs,
    maxEjectionPercent: spec?.maxEjectionPercent ?? d.maxEjectionPercent,
  };
  const triggered = options.consecutive5xx > 0 || options.consecutiveGatewayErrors > 0;
  return triggered && options.maxEjectionPercent > 0 ? options : undefined;
}
