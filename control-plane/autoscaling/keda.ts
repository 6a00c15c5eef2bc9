import type { ServiceSignals } from '../../mesh/signals-aggregate.ts';

/**
 * The JSON KEDA's `metrics-api` scaler reads (`url: http://<control-plane>/autoscaling/keda/<ns>/<service>`,
 * `valueLocation: rps`, or `concurrency`, `latency_p99_ms`, …): flat numbers, rounded to 6 decimals (finer than
 * the external metrics API's milli-units, which would read an error rate of 0.04 % as 0).
 */
export interface KedaMetrics {
  rps: number;
  concurrency: number;
  latency_p50_ms: number;
  latency_p90_ms: number;
  latency_p99_ms: number;
  error_rate: number;
  replicas: number;
  window: 'stable' | 'panic';
  window_seconds: number;
}

export function kedaMetrics(signals: ServiceSignals): KedaMetrics {
  return {
    rps: round6(signals.requestsPerSecond),
    concurrency: round6(signals.concurrency),
    latency_p50_ms: round6(signals.latencyP50Ms),
    latency_p90_ms: round6(signals.latencyP90Ms),
    latency_p99_ms: round6(signals.latencyP99Ms),
    error_rate: round6(signals.errorRate),
    replicas: signals.replicas,
    window: signals.window,
    window_seconds: signals.windowSeconds,
  };
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
