import { z } from 'zod';
import { dnsSubdomain, duration } from './common.ts';
import { loadBalancer, timeouts } from './traffic-policy.ts';

/** Mesh (outrigger.dev/v1alpha1): mesh-wide settings and the defaults every Service gets. At most one per config. */

// --- tracing (OpenTelemetry): read by sidecar/observability/tracing/ ---
export const TRACE_PROPAGATION_FORMATS = ['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger'] as const;
export const meshTracing = z.strictObject({
  enabled: z.boolean().default(false),
  /** Share of requests that start a new trace; a request with a sampled parent follows its parent's decision. */
  sampling: z.strictObject({ percentage: z.number().min(0).max(100).default(1) }).default(() => ({ percentage: 1 })),
  otlp: z
    .strictObject({
      /** Default by protocol: `http://127.0.0.1:4318/v1/traces` (OTLP/HTTP) or `http://127.0.0.1:4317` (OTLP/gRPC; `https` for TLS). */
      endpoint: z.url({ protocol: /^https?$/ }).optional(),
      protocol: z.enum(['http/protobuf', 'grpc']).default('http/protobuf'),
      /** Sent with every export: HTTP headers, or gRPC metadata. */
      headers: z.array(z.strictObject({ name: z.string().min(1), value: z.string() })).default(() => []),
    })
    .default(() => ({ protocol: 'http/protobuf' as const, headers: [] })),
  /** Formats read from requests and written upstream. */
  propagation: z.array(z.enum(TRACE_PROPAGATION_FORMATS)).min(1).default(() => [...TRACE_PROPAGATION_FORMATS]),
});
export type MeshTracing = z.output<typeof meshTracing>;
// --- end tracing ---

// --- metrics (Prometheus): read by sidecar/observability/metrics/ ---
export const meshMetrics = z.strictObject({
  /** `Istio`: `istio_requests_total{reporter,…}` and friends, so Istio dashboards work unchanged; `Outrigger`: `outrigger_*` with `direction`. */
  naming: z.enum(['Istio', 'Outrigger']).default('Istio'),
});
export type MeshMetrics = z.output<typeof meshMetrics>;
// --- end metrics ---

// --- downstream limits: read by sidecar/listeners/ ---
/** Bounds on what a client of the sidecar's listeners may hold open; names follow Envoy's HttpConnectionManager. */
export const meshDownstream = z.strictObject({
  /** Time a client has to send a complete request head, from its first byte (slowloris bound). 408 after. */
  requestHeadersTimeout: duration.refine((ms) => ms >= 100, 'must be at least 100ms').default(10_000),
  /**
   * A request in progress with no bytes moving either way for this long is ended: 408 if no response has started,
   * otherwise the connection is reset. Covers a stalled request body, a client that never reads its response, and an
   * upgraded (WebSocket) connection carrying nothing either way.
   */
  streamIdleTimeout: duration.refine((ms) => ms >= 100, 'must be at least 100ms').default(300_000),
  /** An idle keep-alive connection is closed after this long; above common client pools' idle timeouts. */
  idleTimeout: duration.refine((ms) => ms >= 100, 'must be at least 100ms').default(60_000),
  /** Open connections per listener; further connections are closed at once and counted. */
  maxConnections: z.number().int().min(1).max(1_000_000).default(10_000),
  /** Size of a request head (request line and headers); 431 beyond it. */
  maxRequestHeadersKb: z.number().int().min(1).max(96).default(16),
  /** Header fields in a request; 431 beyond it (Node would otherwise drop the rest silently). */
  maxRequestHeaders: z.number().int().min(1).max(1_000).default(100),
});
export type MeshDownstream = z.output<typeof meshDownstream>;
// --- end downstream limits ---

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
  downstream: meshDownstream.default(() => meshDownstream.parse({})),
  tracing: meshTracing.default(() => meshTracing.parse({})),
  metrics: meshMetrics.default(() => ({ naming: 'Istio' as const })),
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
