import { z } from 'zod';
import { metadata, serviceRef } from './common.ts';

/**
 * AutoscalingSignal (outrigger.dev/v1alpha1): which of a Service's signals the control plane serves for scaling and
 * what target each is held to, so it can report the replica count the Kubernetes HPA would choose for it.
 *
 * ```yaml
 * apiVersion: outrigger.dev/v1alpha1
 * kind: AutoscalingSignal
 * metadata: { name: checkout, namespace: shop }
 * spec:
 *   targetRef: { kind: Service, name: checkout }
 *   metrics:
 *     - { name: requests_per_second, target: { averageValue: 50 } }     # per replica
 *     - { name: latency_p99_ms, window: panic, target: { value: 250 } }
 *   tolerance: 0.1
 * ```
 */

export const AUTOSCALING_METRICS = ['requests_per_second', 'concurrency', 'latency_p50_ms', 'latency_p90_ms', 'latency_p99_ms', 'error_rate'] as const;
export type AutoscalingMetricName = (typeof AUTOSCALING_METRICS)[number];
/** Metrics that add up across replicas, the only ones an `averageValue` (per-replica) target makes sense for. */
export const ADDITIVE_AUTOSCALING_METRICS: readonly AutoscalingMetricName[] = ['requests_per_second', 'concurrency'];

/** Kubernetes quantities carry milli precision, so a target below 0.001 would read as 0. */
const targetValue = z.number().min(0.001).max(1e12);

const metricTarget = z
  .strictObject({
    /** The metric's total divided by the current replicas is held to this (HPA `AverageValue`). */
    averageValue: targetValue.optional(),
    /** The metric itself is held to this (HPA `Value`). */
    value: targetValue.optional(),
  })
  .refine((t) => (t.averageValue === undefined) !== (t.value === undefined), { message: 'set exactly one of averageValue and value' });

const autoscalingMetric = z
  .strictObject({
    name: z.enum(AUTOSCALING_METRICS),
    window: z.enum(['stable', 'panic']).default('stable'),
    target: metricTarget,
  })
  .refine((m) => m.target.averageValue === undefined || ADDITIVE_AUTOSCALING_METRICS.includes(m.name), {
    message: 'averageValue divides the metric by the replica count, which only makes sense for requests_per_second and concurrency; use value',
    path: ['target', 'averageValue'],
  })
  .refine((m) => m.name !== 'error_rate' || (m.target.value ?? 0) <= 1, {
    message: 'error_rate is a ratio from 0 to 1',
    path: ['target', 'value'],
  });

export const autoscalingSignalSpec = z.strictObject({
  targetRef: serviceRef.omit({ port: true }),
  metrics: z
    .array(autoscalingMetric)
    .min(1)
    .max(12)
    .refine((metrics) => new Set(metrics.map((m) => `${m.name}/${m.window}`)).size === metrics.length, {
      message: 'each metric and window may appear once',
    }),
  /** No change while |value ÷ target − 1| stays within this (the HPA's default 0.1). */
  tolerance: z.number().min(0).max(1).default(0.1),
});

export const autoscalingSignal = z.strictObject({
  apiVersion: z.literal('outrigger.dev/v1alpha1'),
  kind: z.literal('AutoscalingSignal'),
  metadata,
  spec: autoscalingSignalSpec,
  status: z.unknown().optional(),
});

export type AutoscalingSignal = z.output<typeof autoscalingSignal>;
export type AutoscalingSignalSpec = z.output<typeof autoscalingSignalSpec>;
export type AutoscalingMetric = z.output<typeof autoscalingMetric>;
