import { CancelReason, cancelRequest, type Handler, type Layer, type Outcome } from '../pipeline/context.ts';

/**
 * The whole-request timeout (HTTPRoute `timeouts.request`). When it fires, the attempt in flight is aborted and
 * the client gets 504 `UT` at once, or, if the response had already started, its connection is cut.
 */
export function deadline(timeoutMs: number | undefined): Layer | undefined {
  if (!timeoutMs) return undefined;
  return (next: Handler): Handler =>
    (ctx) =>
      new Promise<Outcome>((resolve) => {
        const at = performance.now() + timeoutMs;
        if (ctx.deadlineAt === undefined || at < ctx.deadlineAt) ctx.deadlineAt = at;
        let settled = false;
        const settle = (outcome: Outcome): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(outcome);
        };
        const timer = setTimeout(() => {
          const committed = ctx.res.headersSent;
          cancelRequest(ctx, new CancelReason('UT', `request timeout of ${timeoutMs} ms exceeded`));
          if (committed) ctx.res.destroy();
          settle({ status: committed ? ctx.res.statusCode : 504, committed, flag: 'UT', detail: `request timeout of ${timeoutMs} ms exceeded` });
        }, timeoutMs);
        next(ctx).then(settle, (error: unknown) => settle({ status: 500, committed: ctx.res.headersSent, flag: 'UC', detail: String(error) }));
      });
}
