import type { z } from 'zod';
import { autoscalingSignal } from './autoscaling-signal.ts';
import { httpRoute } from './http-route.ts';
import { mesh } from './mesh.ts';
import { serviceEndpoints } from './service-endpoints.ts';
import { trafficPolicy } from './traffic-policy.ts';

/** Every kind Outrigger reads, keyed by `apiVersion` and `kind`: the one schema source per kind. */
export const KINDS = {
  'gateway.networking.k8s.io/v1/HTTPRoute': httpRoute,
  'outrigger.dev/v1alpha1/TrafficPolicy': trafficPolicy,
  'outrigger.dev/v1alpha1/ServiceEndpoints': serviceEndpoints,
  'outrigger.dev/v1alpha1/AutoscalingSignal': autoscalingSignal,
  'outrigger.dev/v1alpha1/Mesh': mesh,
} as const satisfies Record<string, z.ZodType>;

export type KindKey = keyof typeof KINDS;
export type Resource = z.output<(typeof KINDS)[KindKey]>;

export * from './common.ts';
export type * from './http-route.ts';
export type * from './traffic-policy.ts';
export type * from './service-endpoints.ts';
export type * from './mesh.ts';
export type * from './autoscaling-signal.ts';
export { meshSpec } from './mesh.ts';
