import type { Decision } from './limiter.ts';

/**
 * Response fields of draft-ietf-httpapi-ratelimit-headers-11 (23 May 2026), both Structured Field Lists (RFC 9651)
 * whose items are the policy name as an sf-string:
 *
 *     RateLimit-Policy: "local";q=100;w=60, "global";q=1000;w=3600     q = quota, w = window in seconds
 *     RateLimit: "global";r=0;t=2                                      r = available quota, t = effective window (s)
 *
 * We advertise q = `requests` and w = `unit` as configured. On a 429, `RateLimit` names the policy that refused,
 * with r=0 and t equal to `Retry-After` (the draft: Retry-After SHOULD NOT point earlier than the end of the
 * effective window). On admitted responses (opt-in), t is the time until the bucket is full again, a conservative
 * window: the client is told to use no more than r in t, and in fact gets r plus the refill.
 */
export interface QuotaPolicy {
  name: 'local' | 'global';
  quota: number;
  windowSeconds: number;
}

export function policyField(policies: readonly QuotaPolicy[]): string {
  return policies.map((p) => `"${p.name}";q=${p.quota};w=${p.windowSeconds}`).join(', ');
}

export function limitField(items: readonly { policy: QuotaPolicy; decision: Decision }[]): string {
  return items
    .map(({ policy, decision }) =>
      decision.allowed
        ? `"${policy.name}";r=${decision.remaining};t=${Math.ceil(decision.resetMs / 1000)}`
        : `"${policy.name}";r=0;t=${retryAfterSeconds(decision)}`,
    )
    .join(', ');
}

/** `Retry-After` as delay-seconds: a whole number, at least 1. */
export function retryAfterSeconds(decision: Decision): number {
  return Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
}

/** The fields of a 429: `Retry-After`, every configured policy, and the state of the one that refused. */
export function limitedHeaders(policies: readonly QuotaPolicy[], refusedBy: QuotaPolicy, decision: Decision): Record<string, string> {
  return {
    'retry-after': String(retryAfterSeconds(decision)),
    'ratelimit-policy': policyField(policies),
    ratelimit: limitField([{ policy: refusedBy, decision }]),
  };
}
