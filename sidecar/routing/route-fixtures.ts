import type { z } from 'zod';
import { httpRoute } from '../../policy/schema/http-route.ts';
import type { HTTPRoute } from '../../policy/schema/http-route.ts';

type RouteInput = z.input<typeof httpRoute>;

export interface RouteInit {
  name: string;
  namespace?: string;
  creationTimestamp?: string;
  /** Defaults to the Service `catalog` in the route's namespace. */
  parentRefs?: RouteInput['spec']['parentRefs'];
  hostnames?: string[];
  rules?: RouteInput['spec']['rules'];
}

/**
 * Builds an HTTPRoute through the real schema, so defaults (path type, weight, statusCode, durations in ms) are the
 * ones the config loader produces. Used by the routing tests and the benchmark.
 */
export function route(init: RouteInit): { resource: HTTPRoute } {
  const metadata: RouteInput['metadata'] = { name: init.name, namespace: init.namespace ?? 'shop' };
  if (init.creationTimestamp !== undefined) metadata.creationTimestamp = init.creationTimestamp;
  const spec: RouteInput['spec'] = { parentRefs: init.parentRefs ?? [{ name: 'catalog' }] };
  if (init.hostnames !== undefined) spec.hostnames = init.hostnames;
  if (init.rules !== undefined) spec.rules = init.rules;
  return {
    resource: httpRoute.parse({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata, spec }),
  };
}
