import type { ServiceSignals } from '../../mesh/signals-aggregate.ts';
import type { AutoscalingMetricName } from '../../policy/schema/autoscaling-signal.ts';

/** How each signal a policy can name is read from a Service's aggregate and named in the external metrics API. */
export interface SignalMetric {
  name: AutoscalingMetricName;
  /** Name served under external.metrics.k8s.io and in `outrigger_autoscaling_*` (without the prefix). */
  external: string;
  help: string;
  value(signals: ServiceSignals): number;
}

export const SIGNAL_METRICS: readonly SignalMetric[] = [
  { name: 'requests_per_second', external: 'outrigger_requests_per_second', help: 'Requests per second the Service receives, summed over its replicas.', value: (s) => s.requestsPerSecond },
  { name: 'concurrency', external: 'outrigger_concurrency', help: 'Average requests in flight, summed over replicas (time-weighted, as Knative).', value: (s) => s.concurrency },
  { name: 'latency_p50_ms', external: 'outrigger_latency_p50_ms', help: 'Median latency in ms, from the merged histograms of all replicas.', value: (s) => s.latencyP50Ms },
  { name: 'latency_p90_ms', external: 'outrigger_latency_p90_ms', help: '90th percentile latency in ms, from the merged histograms of all replicas.', value: (s) => s.latencyP90Ms },
  { name: 'latency_p99_ms', external: 'outrigger_latency_p99_ms', help: '99th percentile latency in ms, from the merged histograms of all replicas.', value: (s) => s.latencyP99Ms },
  { name: 'error_rate', external: 'outrigger_error_ratio', help: 'Share of requests that failed (5xx or proxy failure), from 0 to 1.', value: (s) => s.errorRate },
];

const BY_NAME = new Map(SIGNAL_METRICS.map((m) => [m.name, m]));
const BY_EXTERNAL = new Map(SIGNAL_METRICS.map((m) => [m.external, m]));

export function signalMetric(name: AutoscalingMetricName): SignalMetric {
  return BY_NAME.get(name) as SignalMetric;
}

/** The metric served under an external metric name; case-insensitive, as some clients lower-case resource names. */
export function externalMetric(name: string): SignalMetric | undefined {
  return BY_EXTERNAL.get(name.toLowerCase());
}
