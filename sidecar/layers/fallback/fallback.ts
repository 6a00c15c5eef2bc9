import type { TrafficPolicy } from '../../../policy/schema/traffic-policy.ts';
import { sendLocalReply } from '../../http/local-reply.ts';
import type { ReasonFlag } from '../../http/reason.ts';
import type { Handler, Layer, Outcome } from '../../pipeline/context.ts';

export type FallbackSpec = NonNullable<TrafficPolicy['spec']['fallback']>;

/** Failures that mean "no endpoint of this Service could take the request": the cases a fallback is for. */
const NO_ENDPOINT_COULD_SERVE: ReadonlySet<ReasonFlag> = new Set(['UH', 'UO', 'CO', 'UF', 'UCT', 'URX']);

export const FALLBACK_HEADER = 'x-outrigger-fallback';

/**
 * Graceful degradation: when no endpoint could serve, answer with a configured static response or hand the request
 * to another Service's chain. The reply keeps the original reason flag (in the log and, when exposed, the reason
 * header) and says it is a fallback in `x-outrigger-fallback`.
 */
export function fallback(spec: FallbackSpec | undefined, otherService: Handler | undefined): Layer | undefined {
  if (!spec) return undefined;
  return (next: Handler): Handler =>
    async (ctx): Promise<Outcome> => {
      const outcome = await next(ctx);
      if (outcome.committed || !outcome.flag || !NO_ENDPOINT_COULD_SERVE.has(outcome.flag) || ctx.cancelled) return outcome;
      ctx.flag = outcome.flag;
      if ('response' in spec) {
        const headers: Record<string, string> = { [FALLBACK_HEADER]: 'response' };
        for (const h of spec.response.headers ?? []) headers[h.name] = h.value;
        sendLocalReply(ctx.res, spec.response.status, spec.response.body ?? '', { flag: outcome.flag, exposeFlag: ctx.exposeFlag, headers, exactBody: true });
        return { status: spec.response.status, committed: true, flag: outcome.flag, detail: `fallback response after ${outcome.flag}` };
      }
      if (!otherService) return outcome;
      ctx.res.setHeader(FALLBACK_HEADER, `service ${spec.backendRef.name}`);
      ctx.endpoint = undefined;
      ctx.triedEndpoints = undefined;
      const viaFallback = await otherService(ctx);
      return viaFallback.flag ? viaFallback : { ...viaFallback, flag: outcome.flag, detail: `served by fallback Service ${spec.backendRef.name} after ${outcome.flag}` };
    };
}
