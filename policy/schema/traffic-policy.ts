import { z } from 'zod';
import { duration, headerName, headerValue, metadata, percentage, serviceRef } from './common.ts';

/**
 * TrafficPolicy (outrigger.dev/v1alpha1): what HTTPRoute lacks, attached to a Service by `targetRefs`.
 * Field names follow Envoy Gateway's BackendTrafficPolicy where it has one.
 */

const targetRef = serviceRef.omit({ port: true });

const consistentHash = z
  .strictObject({
    type: z.enum(['Header', 'Cookie', 'SourceIP']),
    header: z.strictObject({ name: headerName }).optional(),
    cookie: z.strictObject({ name: z.string().min(1).max(256), ttl: duration.optional(), path: z.string().optional() }).optional(),
    /** Maglev lookup table size; must be prime. 65537 as Envoy's default. */
    tableSize: z.number().int().min(251).max(5_000_011).default(65537),
  })
  .refine((h) => h.type !== 'Header' || h.header, { message: 'type Header needs header.name', path: ['header'] })
  .refine((h) => h.type !== 'Cookie' || h.cookie, { message: 'type Cookie needs cookie.name', path: ['cookie'] })
  .refine((h) => isPrime(h.tableSize), { message: 'tableSize must be a prime number', path: ['tableSize'] });

export const loadBalancer = z
  .strictObject({
    type: z.enum(['RoundRobin', 'Random', 'LeastRequest', 'PeakEWMA', 'ConsistentHash']).default('LeastRequest'),
    consistentHash: consistentHash.optional(),
    peakEWMA: z
      .strictObject({ defaultRTT: duration.default(30), decay: duration.default(10_000) })
      .optional(),
  })
  .refine((lb) => lb.type !== 'ConsistentHash' || lb.consistentHash, {
    message: 'type ConsistentHash needs consistentHash',
    path: ['consistentHash'],
  });

export const timeouts = z.strictObject({
  tcp: z.strictObject({ connectTimeout: duration.optional() }).optional(),
  http: z
    .strictObject({
      requestTimeout: duration.optional(),
      connectionIdleTimeout: duration.optional(),
    })
    .optional(),
});

const retryTrigger = z.enum(['5xx', 'gateway-error', 'connect-failure', 'reset', 'retriable-status-codes', 'refused-stream']);

export const retry = z.strictObject({
  numRetries: z.number().int().min(0).max(10).optional(),
  retryOn: z
    .strictObject({
      triggers: z.array(retryTrigger).optional(),
      httpStatusCodes: z.array(z.number().int().min(100).max(599)).optional(),
    })
    .optional(),
  perRetry: z
    .strictObject({
      timeout: duration.optional(),
      backOff: z.strictObject({ baseInterval: duration.optional(), maxInterval: duration.optional() }).optional(),
    })
    .optional(),
  budget: z
    .strictObject({
      percent: percentage.optional(),
      minRetriesPerSecond: z.number().int().min(0).optional(),
      window: duration.optional(),
    })
    .optional(),
  bufferLimitBytes: z.number().int().min(0).max(16 * 1024 * 1024).optional(),
});

/**
 * Per upstream Service limits (always on; defaults as Envoy's thresholds: 1024, 1024, 1024, 3) and an opt-in
 * error-rate breaker, on only when `errorRate` is present (defaults 50 %, 20 requests, 10s window, 30s reset).
 */
export const circuitBreaker = z.strictObject({
  /** Connections to the Service in all, split across its endpoints' pools. */
  maxConnections: z.number().int().min(1).optional(),
  /** Requests in flight beyond `maxConnections`, waiting for a connection. */
  maxPendingRequests: z.number().int().min(0).optional(),
  maxParallelRequests: z.number().int().min(1).optional(),
  maxParallelRetries: z.number().int().min(0).optional(),
  errorRate: z
    .strictObject({
      /** Opens when more than this share of the window's requests failed. */
      thresholdPercent: percentage.optional(),
      /** Requests the window must hold before the breaker may open. */
      volumeThreshold: z.number().int().min(1).optional(),
      /** Rolling window the error rate is measured over, in 10 buckets. */
      window: duration.refine((ms) => ms >= 1000, 'must be at least 1s').optional(),
      /** Time open before one probe request is let through. */
      resetTimeout: duration.optional(),
    })
    .optional(),
});

/**
 * Outlier ejection, on by default with Envoy's defaults: 5 consecutive 5xx or gateway errors (0 disables either),
 * interval 10s, ejection 30s × times ejected up to 300s, at most 10 % ejected (at least one, never the last healthy).
 */
export const passiveHealthCheck = z.strictObject({
  consecutive5XxErrors: z.number().int().min(0).optional(),
  consecutiveGatewayErrors: z.number().int().min(0).optional(),
  /** Each interval without an ejection lowers the next ejection's multiplier by one. */
  interval: duration.optional(),
  baseEjectionTime: duration.optional(),
  maxEjectionTime: duration.optional(),
  maxEjectionPercent: percentage.optional(),
});

/**
 * Which bucket a request draws from. `Header`: the header's value (requests without it share one bucket, "unkeyed");
 * `ClientAddress`: the client's IP (inbound: as the calling sidecar saw it, see sidecar/layers/rate-limit/request-key.ts);
 * `SourceService`: the calling Service, from `x-outrigger-source`. No key: one bucket for all requests.
 */
const rateLimitKey = z
  .strictObject({
    type: z.enum(['Header', 'ClientAddress', 'SourceService']),
    header: headerName.optional(),
  })
  .refine((k) => k.type !== 'Header' || k.header !== undefined, { message: 'type Header needs header', path: ['header'] })
  .refine((k) => k.type === 'Header' || k.header === undefined, { message: 'header is only for type Header', path: ['header'] });

/** `requests` per `unit`, with bursts of up to `burst` (default `requests`): a token bucket. */
const rateLimitRule = z.strictObject({
  requests: z.number().int().min(1).max(1_000_000),
  unit: z.enum(['Second', 'Minute', 'Hour']),
  burst: z.number().int().min(1).max(1_000_000).optional(),
  key: rateLimitKey.optional(),
});

const globalRateLimitRule = rateLimitRule.extend({
  redis: z.strictObject({
    url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
    /** Longest a request waits for Redis before `failureMode` decides (default 50 ms). */
    timeout: duration.refine((ms) => ms >= 1 && ms <= 1000, 'must be between 1ms and 1s').optional(),
  }),
  /** What to do when Redis does not answer in time: `Open` admits the request, `Closed` answers 429. */
  failureMode: z.enum(['Open', 'Closed']).default('Open'),
});

/**
 * `direction: Inbound` (default): the target Service's own sidecars enforce the limits on traffic they receive, as
 * Linkerd does. `Outbound`: each caller's sidecar enforces them on its calls to the Service. `local` counts in each
 * sidecar alone; `global` is shared by every sidecar through Redis. `headers: Always` adds `RateLimit` fields to
 * admitted responses too (default: only to 429s).
 */
export const rateLimit = z
  .strictObject({
    direction: z.enum(['Inbound', 'Outbound']).default('Inbound'),
    local: rateLimitRule.optional(),
    global: globalRateLimitRule.optional(),
    headers: z.enum(['OnLimited', 'Always']).default('OnLimited'),
  })
  .refine((r) => r.local !== undefined || r.global !== undefined, { message: 'set local, global or both' });

export const faultInjection = z.strictObject({
  delay: z.strictObject({ fixedDelay: duration, percentage: percentage.default(100) }).optional(),
  abort: z.strictObject({ httpStatus: z.number().int().min(200).max(599), percentage: percentage.default(100) }).optional(),
  headers: z.array(z.strictObject({ name: headerName, value: headerValue })).optional(),
});

export const fallback = z.union([
  z.strictObject({
    response: z.strictObject({
      status: z.number().int().min(200).max(599),
      body: z.string().max(64 * 1024).optional(),
      headers: z.array(z.strictObject({ name: headerName, value: headerValue })).optional(),
    }),
  }),
  z.strictObject({ backendRef: serviceRef }),
]);

export const trafficPolicySpec = z.strictObject({
  targetRefs: z.array(targetRef).min(1).max(16),
  loadBalancer: loadBalancer.optional(),
  timeout: timeouts.optional(),
  retry: retry.optional(),
  circuitBreaker: circuitBreaker.optional(),
  healthCheck: z.strictObject({ passive: passiveHealthCheck.optional() }).optional(),
  rateLimit: rateLimit.optional(),
  faultInjection: faultInjection.optional(),
  fallback: fallback.optional(),
});

export const trafficPolicy = z.strictObject({
  apiVersion: z.literal('outrigger.dev/v1alpha1'),
  kind: z.literal('TrafficPolicy'),
  metadata,
  spec: trafficPolicySpec,
  status: z.unknown().optional(),
});

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

export type TrafficPolicy = z.output<typeof trafficPolicy>;
export type LoadBalancerSpec = z.output<typeof loadBalancer>;
export type TimeoutSpec = z.output<typeof timeouts>;
