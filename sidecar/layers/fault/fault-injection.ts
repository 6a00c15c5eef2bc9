import type { IncomingHttpHeaders } from 'node:http';
import type { TrafficPolicy } from '../../../policy/schema/traffic-policy.ts';
import { sendLocalReply } from '../../http/local-reply.ts';
import type { Handler, Layer, Outcome, RequestContext } from '../../pipeline/context.ts';

export type FaultSpec = NonNullable<TrafficPolicy['spec']['faultInjection']>;

export interface FaultDeps {
  random?: () => number;
  sleep?: (ms: number, ctx: RequestContext) => Promise<void>;
}

/**
 * Istio's `fault.delay` and `fault.abort`: delay a share of requests, and/or answer a share with a chosen status
 * without calling upstream (flag `FI`; delayed requests carry `DI`). With `headers`, only requests carrying
 * all of them (exact values) are touched, so a tester can aim faults at their own calls.
 */
export function faultInjection(spec: FaultSpec | undefined, deps: FaultDeps = {}): Layer | undefined {
  if (!spec || (!spec.delay && !spec.abort)) return undefined;
  const random = deps.random ?? Math.random;
  const sleep = deps.sleep ?? cancellableSleep;
  const selectors = (spec.headers ?? []).map((h) => ({ name: h.name.toLowerCase(), value: h.value }));
  const { delay, abort } = spec;
  return (next: Handler): Handler =>
    async (ctx): Promise<Outcome> => {
      if (selectors.length > 0 && !matches(ctx.req.headers, selectors)) return next(ctx);
      if (delay && random() * 100 < delay.percentage) {
        ctx.flag = 'DI';
        await sleep(delay.fixedDelay, ctx);
        if (ctx.cancelled) return { status: 0, committed: false, flag: ctx.cancelled.outriggerFlag, detail: ctx.cancelled.message };
      }
      if (abort && random() * 100 < abort.percentage) {
        sendLocalReply(ctx.res, abort.httpStatus, 'FI: fault injected', { flag: 'FI', exposeFlag: ctx.exposeFlag });
        return { status: abort.httpStatus, committed: true, flag: 'FI' };
      }
      return next(ctx);
    };
}

function matches(headers: IncomingHttpHeaders, selectors: { name: string; value: string }[]): boolean {
  for (const { name, value } of selectors) if (headers[name] !== value) return false;
  return true;
}

/** Waits `ms`, waking early when the request is abandoned (client gone, deadline). */
function cancellableSleep(ms: number, ctx: RequestContext): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    const poll = setInterval(() => ctx.cancelled && done(), Math.min(50, ms));
    function done(): void {
      clearTimeout(timer);
      clearInterval(poll);
      resolve();
    }
  });
}
