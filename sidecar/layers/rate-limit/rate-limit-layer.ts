import { sendLocalReply } from '../../http/local-reply.ts';
import type { Handler, Layer, Outcome, RequestContext } from '../../pipeline/context.ts';
import type { Decision, Limiter } from './limiter.ts';
import { limitField, limitedHeaders, policyField, type QuotaPolicy } from './quota-headers.ts';

/** One limit to pass: which policy it is, how a request names its bucket, and who decides. */
export interface RateLimitCheck {
  readonly policy: QuotaPolicy;
  readonly key: (ctx: RequestContext) => string;
  readonly limiter: Limiter;
}

export interface RateLimitLayerOptions {
  /** Add `RateLimit-Policy` and `RateLimit` to admitted responses too (default false: only 429s carry them). */
  headersOnAllowed?: boolean;
}

export interface RateLimitStats {
  /** Requests admitted, and refused with 429 (including refusals because the backend was unavailable). */
  allowed: number;
  limited: number;
  /** Requests the global backend could not decide for, and what the failure mode did with them. */
  backendErrors: number;
  failedOpen: number;
  failedClosed: number;
  backendOutages: number;
  backendRecoveries: number;
  /** Whether the global backend answers; absent without a global limit. */
  backendAvailable?: boolean;
  /** Buckets the local limiter holds. */
  localKeys?: number;
}

export type RateLimitLayer = Layer & { stats(): RateLimitStats };

export const BACKEND_UNAVAILABLE = 'rate limit backend unavailable';

/**
 * Passes each check in order (local before global: the cheap one first, and it shields Redis from floods) and
 * answers 429 `RL` itself at the first refusal, without calling `next`. A unit taken from an earlier check is not
 * given back when a later one refuses, as with Envoy's local and global filters in a row.
 */
export function rateLimitLayer(checks: readonly RateLimitCheck[], options: RateLimitLayerOptions = {}): RateLimitLayer {
  const policies = checks.map((c) => c.policy);
  const policyValue = policyField(policies);
  let allowed = 0;
  let limited = 0;

  const layer = (next: Handler): Handler =>
    async (ctx): Promise<Outcome> => {
      const passed: { policy: QuotaPolicy; decision: Decision }[] = [];
      for (const check of checks) {
        const pending = check.limiter.take(check.key(ctx));
        const decision = pending instanceof Promise ? await pending : pending;
        if (!decision.allowed) {
          limited++;
          return refuse(ctx, check.policy, decision);
        }
        if (decision.failureMode === undefined) passed.push({ policy: check.policy, decision });
      }
      allowed++;
      if (options.headersOnAllowed && passed.length > 0 && !ctx.res.headersSent) {
        ctx.res.setHeader('ratelimit-policy', policyValue);
        ctx.res.setHeader('ratelimit', limitField(passed));
      }
      return next(ctx);
    };

  const refuse = (ctx: RequestContext, policy: QuotaPolicy, decision: Decision): Outcome => {
    const detail = decision.failureMode === 'Closed' ? BACKEND_UNAVAILABLE : undefined;
    const headers = { ...limitedHeaders(policies, policy, decision), 'x-request-id': ctx.requestId };
    sendLocalReply(ctx.res, 429, detail ? `RL: rate limited: ${detail}` : 'RL: rate limited', { flag: 'RL', exposeFlag: ctx.exposeFlag, headers });
    return detail ? { status: 429, committed: true, flag: 'RL', detail } : { status: 429, committed: true, flag: 'RL' };
  };

  const stats = (): RateLimitStats => {
    const out: RateLimitStats = { allowed, limited, backendErrors: 0, failedOpen: 0, failedClosed: 0, backendOutages: 0, backendRecoveries: 0 };
    for (const { limiter } of checks) {
      const s = limiter.stats();
      out.backendErrors += s.backendErrors ?? 0;
      out.failedOpen += s.failedOpen ?? 0;
      out.failedClosed += s.failedClosed ?? 0;
      out.backendOutages += s.backendOutages ?? 0;
      out.backendRecoveries += s.backendRecoveries ?? 0;
      if (s.backendAvailable !== undefined) out.backendAvailable = s.backendAvailable;
      if (s.keys !== undefined) out.localKeys = s.keys;
    }
    return out;
  };

  return Object.assign(layer, { stats });
}
