import { z } from 'zod';
import { dnsLabel, dnsSubdomain, duration, headerName, headerValue, metadata, port, serviceRef } from './common.ts';

/** HTTPRoute as in Gateway API v1 (standard channel plus `retry`), attached to Services as in the mesh (GAMMA) profile. */

const pathMatch = z.strictObject({
  type: z.enum(['Exact', 'PathPrefix', 'RegularExpression']).default('PathPrefix'),
  value: z.string().min(1).max(1024).default('/'),
});

const headerMatch = z.strictObject({
  type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
  name: headerName,
  value: z.string().max(4096),
});

const queryParamMatch = z.strictObject({
  type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
  name: z.string().min(1).max(256),
  value: z.string().max(1024),
});

export const httpMethod = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

const routeMatch = z.strictObject({
  path: pathMatch.optional(),
  headers: z.array(headerMatch).max(16).optional(),
  queryParams: z.array(queryParamMatch).max(16).optional(),
  method: httpMethod.optional(),
});

const headerPair = z.strictObject({ name: headerName, value: headerValue });

const headerModifier = z.strictObject({
  set: z.array(headerPair).max(16).optional(),
  add: z.array(headerPair).max(16).optional(),
  remove: z.array(headerName).max(16).optional(),
});

const pathModifier = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ReplaceFullPath'), replaceFullPath: z.string().startsWith('/').max(1024) }),
  z.strictObject({ type: z.literal('ReplacePrefixMatch'), replacePrefixMatch: z.string().startsWith('/').max(1024) }),
]);

const hostname = z
  .string()
  .max(253)
  .regex(/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a hostname');

const requestRedirect = z.strictObject({
  scheme: z.enum(['http', 'https']).optional(),
  hostname: hostname.optional(),
  path: pathModifier.optional(),
  port: port.optional(),
  statusCode: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]).default(302),
});

const urlRewrite = z.strictObject({
  hostname: hostname.optional(),
  path: pathModifier.optional(),
});

const requestMirror = z
  .strictObject({
    backendRef: serviceRef,
    percent: z.number().int().min(0).max(100).optional(),
    fraction: z
      // abort: the numerator check below must not run against an invalid denominator.
      .strictObject({
        numerator: z.number().int().min(0, { abort: true }),
        denominator: z.number().int().min(1, { abort: true }).default(100),
      })
      .refine((f) => f.numerator <= f.denominator, { message: 'numerator must not exceed denominator' })
      .optional(),
  })
  .refine((m) => m.percent === undefined || m.fraction === undefined, {
    message: 'set percent or fraction, not both',
  });

export const httpRouteFilter = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('RequestHeaderModifier'), requestHeaderModifier: headerModifier }),
  z.strictObject({ type: z.literal('ResponseHeaderModifier'), responseHeaderModifier: headerModifier }),
  z.strictObject({ type: z.literal('RequestRedirect'), requestRedirect }),
  z.strictObject({ type: z.literal('URLRewrite'), urlRewrite }),
  z.strictObject({ type: z.literal('RequestMirror'), requestMirror }),
]);

const backendRef = serviceRef.extend({
  weight: z.number().int().min(0).max(1_000_000).default(1),
  filters: z.array(httpRouteFilter).max(16).optional(),
});

const routeRetry = z.strictObject({
  codes: z.array(z.number().int().min(400).max(599)).max(32).optional(),
  attempts: z.number().int().min(0).max(10).optional(),
  backoff: duration.optional(),
});

const routeTimeouts = z
  .strictObject({
    request: duration.optional(),
    backendRequest: duration.optional(),
  })
  .refine((t) => !t.request || !t.backendRequest || t.backendRequest <= t.request, {
    message: 'backendRequest must not be longer than request',
  });

const routeRule = z.strictObject({
  name: dnsLabel.optional(),
  matches: z.array(routeMatch).max(64).optional(),
  filters: z.array(httpRouteFilter).max(16).optional(),
  backendRefs: z.array(backendRef).max(16).optional(),
  timeouts: routeTimeouts.optional(),
  retry: routeRetry.optional(),
});

const parentRef = z.strictObject({
  group: z.enum(['', 'core']).default(''),
  kind: z.literal('Service').default('Service'),
  name: dnsSubdomain,
  namespace: dnsLabel.optional(),
  port: port.optional(),
  sectionName: z.string().max(253).optional(),
});

export const httpRouteSpec = z.strictObject({
  parentRefs: z.array(parentRef).min(1).max(32),
  hostnames: z.array(hostname).max(16).optional(),
  // A function, so each route gets its own rule object rather than one shared, mutable default.
  rules: z.array(routeRule).max(64).default(() => [{}]),
});

export const httpRoute = z.strictObject({
  apiVersion: z.literal('gateway.networking.k8s.io/v1'),
  kind: z.literal('HTTPRoute'),
  metadata,
  spec: httpRouteSpec,
  status: z.unknown().optional(),
});

export type HTTPRoute = z.output<typeof httpRoute>;
export type HTTPRouteRule = z.output<typeof routeRule>;
export type HTTPRouteMatch = z.output<typeof routeMatch>;
export type HTTPRouteFilter = z.output<typeof httpRouteFilter>;
export type HTTPBackendRef = z.output<typeof backendRef>;
export type HTTPHeaderModifier = z.output<typeof headerModifier>;
export type HTTPPathModifier = z.output<typeof pathModifier>;
