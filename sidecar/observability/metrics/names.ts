/**
 * Metric names and buckets. Request metrics follow the Mesh's `metrics.naming`: `Istio` (default) exports the names
 * and labels Istio's dashboards and alerts query (`istio_requests_total{reporter,source_workload,destination_service,
 * response_code,response_flags}`); `Outrigger` exports the same series as `outrigger_*` with `direction` in place of
 * `reporter`. State metrics (breakers, ejections, budgets, config) have no Istio equivalent and are always `outrigger_*`.
 */

export type MetricsNaming = 'Istio' | 'Outrigger';

export interface RequestMetricNames {
  requests: string;
  duration: string;
  requestBytes: string;
  responseBytes: string;
  /** `reporter` (Istio: `source` for outbound, `destination` for inbound) or `direction`. */
  directionLabel: 'reporter' | 'direction';
}

export const REQUEST_METRIC_NAMES: Record<MetricsNaming, RequestMetricNames> = {
  Istio: {
    requests: 'istio_requests_total',
    duration: 'istio_request_duration_milliseconds',
    requestBytes: 'istio_request_bytes',
    responseBytes: 'istio_response_bytes',
    directionLabel: 'reporter',
  },
  Outrigger: {
    requests: 'outrigger_requests_total',
    duration: 'outrigger_request_duration_milliseconds',
    requestBytes: 'outrigger_request_bytes',
    responseBytes: 'outrigger_response_bytes',
    directionLabel: 'direction',
  },
};

/** Labels of every request series after the direction label; `route` is ours (Istio has no such label). */
export const REQUEST_LABELS = [
  'source_workload',
  'source_workload_namespace',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'response_code',
  'response_flags',
  'route',
] as const;

/**
 * Istio's histogram buckets: Envoy's default bucket bounds (`0.5 … 3 600 000`), which Istio uses for
 * `istio_request_duration_milliseconds` and the byte-size histograms unless `sidecar.istio.io/statsHistogramBuckets`
 * overrides them. Same bounds for both, so `histogram_quantile` over Istio and Outrigger series lines up.
 */
export const ISTIO_BUCKETS: readonly number[] = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

export const STATE_METRIC_NAMES = {
  inFlight: 'outrigger_requests_in_flight',
  retries: 'outrigger_retries_total',
  retryBudgetExhausted: 'outrigger_retry_budget_exhausted_total',
  circuitState: 'outrigger_circuit_breaker_state',
  circuitOpens: 'outrigger_circuit_breaker_opens_total',
  overflows: 'outrigger_overflow_total',
  endpoints: 'outrigger_endpoints',
  ejectedEndpoints: 'outrigger_ejected_endpoints',
  ejections: 'outrigger_ejections_total',
  rateLimited: 'outrigger_rate_limited_total',
  rateLimitAllowed: 'outrigger_rate_limit_allowed_total',
  configInfo: 'outrigger_config_info',
  configGeneration: 'outrigger_config_generation',
  configReloadFailures: 'outrigger_config_reload_failures_total',
  downstreamRejected: 'outrigger_downstream_rejected_total',
} as const;
