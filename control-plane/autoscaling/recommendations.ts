import type { SignalSource } from '../../mesh/signals-collector.ts';
import type { WindowName } from '../../mesh/signals-report.ts';
import type { AutoscalingSignal } from '../../policy/schema/autoscaling-signal.ts';
import { hpaProposal, largestProposal, type HpaTarget } from './hpa.ts';
import { signalMetric } from './signal-metrics.ts';

export interface MetricRecommendation {
  name: string;
  window: WindowName;
  /** Its name in external.metrics.k8s.io. */
  externalMetric: string;
  value: number;
  target: HpaTarget;
  usageRatio: number | null;
  withinTolerance: boolean;
  proposedReplicas: number;
}

export interface Recommendation {
  /** The AutoscalingSignal's name and namespace. */
  name: string;
  namespace: string;
  /** `name.namespace` of the target Service. */
  service: string;
  /** Members reporting for the Service. */
  currentReplicas: number;
  tolerance: number;
  metrics: MetricRecommendation[];
  /** The largest proposal, as the HPA picks; null while no sidecar reports for the Service (the HPA would not act). */
  recommendedReplicas: number | null;
  /** The metric whose proposal won, or why there is no recommendation. */
  reason: string;
}

/** What the HPA formula would choose for the Service an AutoscalingSignal targets, metric by metric. */
export function recommend(policy: AutoscalingSignal, source: SignalSource): Recommendation {
  const namespace = policy.spec.targetRef.namespace ?? policy.metadata.namespace;
  const service = `${policy.spec.targetRef.name}.${namespace}`;
  const base = { name: policy.metadata.name, namespace: policy.metadata.namespace, service, tolerance: policy.spec.tolerance };
  const stable = source.aggregate(service, 'stable');
  if (!stable) return { ...base, currentReplicas: 0, metrics: [], recommendedReplicas: null, reason: `no sidecar reports signals for ${service}` };
  const current = stable.replicas;
  const metrics = policy.spec.metrics.map((metric): MetricRecommendation => {
    const signals = metric.window === 'stable' ? stable : (source.aggregate(service, metric.window) ?? stable);
    const reader = signalMetric(metric.name);
    const value = reader.value(signals);
    const target: HpaTarget = metric.target.averageValue !== undefined ? { type: 'AverageValue', averageValue: metric.target.averageValue } : { type: 'Value', value: metric.target.value ?? 0 };
    const proposal = hpaProposal(current, value, target, policy.spec.tolerance);
    return {
      name: metric.name,
      window: metric.window,
      externalMetric: reader.external,
      value,
      target,
      usageRatio: Number.isFinite(proposal.usageRatio) ? proposal.usageRatio : null,
      withinTolerance: proposal.withinTolerance,
      proposedReplicas: proposal.replicas,
    };
  });
  const recommended = largestProposal(metrics.map((m) => m.proposedReplicas)) ?? current;
  const winner = metrics.find((m) => m.proposedReplicas === recommended);
  return { ...base, currentReplicas: current, metrics, recommendedReplicas: recommended, reason: winner ? `${winner.name} (${winner.window})` : 'no metrics' };
}
