import type { ServiceSignals } from '../../mesh/signals-aggregate.ts';
import { formatQuantity } from './quantity.ts';
import { SIGNAL_METRICS, type SignalMetric } from './signal-metrics.ts';

/**
 * The documents of the `external.metrics.k8s.io/v1beta1` API, in the JSON shapes of k8s.io/metrics
 * (pkg/apis/external_metrics/v1beta1/types.go) and k8s.io/apimachinery (metav1.APIGroupList, APIGroup,
 * APIResourceList, Status): what the HPA reads through the aggregation layer, and what the aggregator probes.
 */

export const EXTERNAL_METRICS_GROUP = 'external.metrics.k8s.io';
export const EXTERNAL_METRICS_VERSION = 'v1beta1';
export const EXTERNAL_METRICS_GROUP_VERSION = `${EXTERNAL_METRICS_GROUP}/${EXTERNAL_METRICS_VERSION}`;

const groupVersion = { groupVersion: EXTERNAL_METRICS_GROUP_VERSION, version: EXTERNAL_METRICS_VERSION };

export interface ExternalMetricValue {
  metricName: string;
  metricLabels: Record<string, string>;
  /** RFC 3339, seconds precision (metav1.Time). */
  timestamp: string;
  /** `WindowSeconds *int64 json:"window"`: seconds the value was computed over. */
  window: number;
  /** A quantity string, e.g. "1250m". */
  value: string;
}

export interface ExternalMetricValueList {
  kind: 'ExternalMetricValueList';
  apiVersion: typeof EXTERNAL_METRICS_GROUP_VERSION;
  metadata: Record<string, never>;
  items: ExternalMetricValue[];
}

export interface KubernetesStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: 'NotFound' | 'BadRequest' | 'MethodNotAllowed';
  details?: { name?: string; group?: string; kind?: string };
  code: number;
}

/** `GET /apis`: the one group this server provides. */
export function apiGroupList(): unknown {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [apiGroupBody()] };
}

/** `GET /apis/external.metrics.k8s.io`. */
export function apiGroup(): unknown {
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroupBody() };
}

function apiGroupBody(): { name: string; versions: (typeof groupVersion)[]; preferredVersion: typeof groupVersion } {
  return { name: EXTERNAL_METRICS_GROUP, versions: [groupVersion], preferredVersion: groupVersion };
}

/** `GET /apis/external.metrics.k8s.io/v1beta1`: one namespaced resource per metric, readable with `get`. */
export function apiResourceList(): unknown {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: EXTERNAL_METRICS_GROUP_VERSION,
    resources: SIGNAL_METRICS.map((metric) => ({ name: metric.external, singularName: '', namespaced: true, kind: 'ExternalMetricValueList', verbs: ['get'] })),
  };
}

export function externalMetricValueList(items: ExternalMetricValue[]): ExternalMetricValueList {
  return { kind: 'ExternalMetricValueList', apiVersion: EXTERNAL_METRICS_GROUP_VERSION, metadata: {}, items };
}

/** One item: the metric for one Service (its bare name in `metricLabels.service`) over one window. */
export function externalMetricValue(metric: SignalMetric, serviceName: string, signals: ServiceSignals, nowMs: number): ExternalMetricValue {
  return {
    metricName: metric.external,
    metricLabels: { service: serviceName },
    timestamp: rfc3339(nowMs),
    window: signals.windowSeconds,
    value: formatQuantity(metric.value(signals)),
  };
}

export function kubernetesStatus(code: 400 | 404 | 405, message: string, details?: KubernetesStatus['details']): KubernetesStatus {
  const reason = code === 404 ? 'NotFound' : code === 405 ? 'MethodNotAllowed' : 'BadRequest';
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** metav1.Time's JSON form: RFC 3339 in UTC, whole seconds. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
