import { z } from 'zod';

/** Gateway API duration: 1–4 groups of up to 5 digits with h, m, s or ms, e.g. `1m30s`, `250ms`. Parsed to milliseconds. */
const DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const DURATION_PART = /([0-9]{1,5})(h|ms|m|s)/g;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

export function parseDuration(text: string): number {
  let total = 0;
  for (const match of text.matchAll(DURATION_PART)) total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? 0);
  return total;
}

export const duration = z
  .string()
  // abort: refinements comparing durations (backendRequest <= request) must not run on a string that failed to parse.
  .regex(DURATION, { error: 'must be a Gateway API duration such as "500ms", "10s" or "1m30s"', abort: true })
  .transform(parseDuration);

/** RFC 1123 label, as Kubernetes object names and namespaces. */
export const dnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase RFC 1123 label (a-z, 0-9, "-")');

/** RFC 1123 subdomain, as Kubernetes resource names. */
export const dnsSubdomain = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a lowercase RFC 1123 subdomain');

export const headerName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/, 'must be an HTTP header name (RFC 9110 token)');

/** A header value must not carry CR, LF or NUL: they would split or smuggle headers. */
export const headerValue = z
  .string()
  .max(4096)
  .regex(/^[^\r\n\0]*$/, 'must not contain CR, LF or NUL');

export const port = z.number().int().min(1).max(65535);

export const metadata = z.strictObject({
  name: dnsSubdomain,
  namespace: dnsLabel.default('default'),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  creationTimestamp: z.iso.datetime({ offset: true }).optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
});

/** A reference to a core/v1 Service, as GAMMA parentRefs, backendRefs and policy targetRefs use it. */
export const serviceRef = z.strictObject({
  group: z.enum(['', 'core']).default(''),
  kind: z.literal('Service').default('Service'),
  name: dnsSubdomain,
  namespace: dnsLabel.optional(),
  port: port.optional(),
});

export const percentage = z.number().min(0).max(100);

export type Metadata = z.output<typeof metadata>;
export type ServiceRef = z.output<typeof serviceRef>;
