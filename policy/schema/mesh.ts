import { z } from 'zod';
import { dnsSubdomain, duration } from './common.ts';
import { loadBalancer, timeouts } from './traffic-policy.ts';

/** Mesh (outrigger.dev/v1alpha1): mesh-wide settings and the defaults every Service gets. At most one per config. */

export const meshSpec = z.strictObject({
  /** Suffix stripped from `Host` to find a Service: `catalog.shop.svc.<clusterDomain>` names Service `catalog` in `shop`. */
  clusterDomain: dnsSubdomain.default('cluster.local'),
  /** When to add `x-outrigger-reason` to responses the sidecar answered itself or that failed upstream. */
  reasonHeader: z.enum(['Always', 'OnRequest', 'Never']).default('OnRequest'),
  defaults: z
    .strictObject({
      loadBalancer: loadBalancer.optional(),
      timeout: timeouts.optional(),
    })
    .default(() => ({})),
  upstream: z
    .strictObject({
      /** Keep-alive connections per endpoint. */
      maxConnectionsPerEndpoint: z.number().int().min(1).max(10_000).default(128),
      /** Below Node's 5 s server keep-alive, so the sidecar never reuses a socket the app is closing. */
      idleTimeout: duration.default(4_000),
    })
    .default(() => ({ maxConnectionsPerEndpoint: 128, idleTimeout: 4_000 })),
});

export const mesh = z.strictObject({
  apiVersion: z.literal('outrigger.dev/v1alpha1'),
  kind: z.literal('Mesh'),
  metadata: z.strictObject({
    name: dnsSubdomain,
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  // Defaults are functions so that no two resources share (and could mutate) one default object.
  spec: meshSpec.default(() => meshSpec.parse({})),
});

export type Mesh = z.output<typeof mesh>;
export type MeshSpec = z.output<typeof meshSpec>;
