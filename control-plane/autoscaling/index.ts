/**
 * Autoscaling signals on the control plane: the sidecars' reports (mesh/signals-collector.ts) served as the
 * external.metrics.k8s.io/v1beta1 API, as JSON for KEDA's metrics-api scaler, as HPA recommendations per
 * AutoscalingSignal policy, and as Prometheus gauges.
 */
export { createAutoscalingRoutes, type AutoscalingRoutes, type AutoscalingRoutesOptions } from './routes.ts';
export { registerAutoscalingMetrics, type AutoscalingMetricsOptions } from './prometheus.ts';
export { recommend, type MetricRecommendation, type Recommendation } from './recommendations.ts';
export { hpaProposal, largestProposal, DEFAULT_TOLERANCE, type HpaProposal, type HpaTarget } from './hpa.ts';
export { formatQuantity, toMilli } from './quantity.ts';
export { parseLabelSelector, matchesSelector, SelectorError, type Requirement } from './label-selector.ts';
export { kedaMetrics, type KedaMetrics } from './keda.ts';
export * from './external-metrics.ts';
export { SIGNAL_METRICS, externalMetric, signalMetric, type SignalMetric } from './signal-metrics.ts';
