import { milliValue } from './quantity.ts';

/**
 * The Kubernetes HPA's replica calculation for an external metric (pkg/controller/podautoscaler/
 * replica_calculator.go: GetExternalMetricReplicas and GetExternalPerPodMetricReplicas), on the milli-values the
 * HPA reads from the quantities we serve:
 *
 * - `Value` target: ratio = value ÷ target; no change when |ratio − 1| ≤ tolerance, else ceil(ratio × current).
 *   With 0 current replicas: ceil(ratio).
 * - `AverageValue` target: ratio = value ÷ (target × current); no change when |ratio − 1| ≤ tolerance, else
 *   ceil(value ÷ target). (The HPA divides by the current replicas first, and the proposal needs no replicas.)
 *
 * Across metrics the HPA takes the largest proposal. Its min/max replicas, the 15 s sync and the 300 s scale-down
 * stabilization apply on top and are not modelled here.
 */

export type HpaTarget = { type: 'Value'; value: number } | { type: 'AverageValue'; averageValue: number };

export interface HpaProposal {
  replicas: number;
  /** value ÷ target (Value) or value ÷ (target × current) (AverageValue); NaN or Infinity at 0 replicas. */
  usageRatio: number;
  /** The ratio is within tolerance, so the proposal is the current count. */
  withinTolerance: boolean;
}

export const DEFAULT_TOLERANCE = 0.1;

export function hpaProposal(currentReplicas: number, value: number, target: HpaTarget, tolerance = DEFAULT_TOLERANCE): HpaProposal {
  const usage = milliValue(value);
  if (target.type === 'Value') {
    const usageRatio = usage / Math.max(1, milliValue(target.value));
    if (currentReplicas === 0) return { replicas: Math.ceil(usageRatio), usageRatio, withinTolerance: false };
    if (Math.abs(1 - usageRatio) <= tolerance) return { replicas: currentReplicas, usageRatio, withinTolerance: true };
    return { replicas: Math.ceil(usageRatio * currentReplicas), usageRatio, withinTolerance: false };
  }
  const perReplica = Math.max(1, milliValue(target.averageValue));
  const usageRatio = usage / (perReplica * currentReplicas);
  // Go compares NaN (0 ÷ 0) as within tolerance, since NaN > tolerance is false: 0 replicas and no usage stay 0.
  if (!(Math.abs(1 - usageRatio) > tolerance)) return { replicas: currentReplicas, usageRatio, withinTolerance: true };
  return { replicas: Math.ceil(usage / perReplica), usageRatio, withinTolerance: false };
}

/** The HPA's choice across metrics: the largest proposal; undefined without any. */
export function largestProposal(proposals: readonly number[]): number | undefined {
  return proposals.length === 0 ? undefined : Math.max(...proposals);
}
