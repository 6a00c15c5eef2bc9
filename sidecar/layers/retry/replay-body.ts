import { CancelReason, type Outcome, type RequestContext } from '../../pipeline/context.ts';

/**
 * What the request's body allows: `replayable` (no body, or it now sits in `ctx.replayBody`), `single-attempt`
 * (chunked or over the limit: it streams once and is never retried), or the failure that ended the request.
 */
export type BodyReadiness = 'replayable' | 'single-attempt' | Outcome;

/** The declared Content-Length, when the request has a valid one. */
export function declaredLength(ctx: RequestContext): number | undefined {
  const value = ctx.req.headers['content-length'];
  if (typeof value !== 'string' || !/^\d{1,16}$/.test(value)) return undefined;
  return Number(value);
}

/**
 * Makes the body replayable when it is small enough: a body with a known Content-Length ≤ `limit` is read whole
 * from `ctx.req` into `ctx.replayBody` before the first attempt. Reading is bounded by the declared length; a
 * client that sends more fails with `DPE`, one that disconnects or errors with `DC`, and abandoning the request
 * (deadline, client gone) stops the read at once through `ctx.cancelAttempt`.
 */
export function prepareBody(ctx: RequestContext, limit: number): Promise<BodyReadiness> {
  if (!ctx.hasBody || ctx.replayBody) return Promise.resolve('replayable');
  const length = declaredLength(ctx);
  if (length === undefined || length > limit) return Promise.resolve('single-attempt');
  if (ctx.cancelled) return Promise.resolve(failure(ctx.cancelled));
  return readBody(ctx, length);
}

function readBody(ctx: RequestContext, length: number): Promise<BodyReadiness> {
  const req = ctx.req;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: BodyReadiness): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      ctx.cancelAttempt = undefined;
      if (typeof result === 'object') req.resume(); // discard whatever else arrives
      resolve(result);
    };
    const onData = (chunk: Buffer | string): void => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > length) {
        done(failure(new CancelReason('DPE', `request body is longer than its Content-Length of ${length} bytes`)));
        return;
      }
      chunks.push(buffer);
    };
    const onEnd = (): void => {
      if (size < length) {
        done(failure(new CancelReason('DPE', `request body ended after ${size} of ${length} bytes`)));
        return;
      }
      ctx.replayBody = Buffer.concat(chunks, size);
      done('replayable');
    };
    const onError = (error: Error): void => done(failure(new CancelReason('DC', `reading the request body failed: ${error.message}`)));
    const onClose = (): void => done(failure(new CancelReason('DC', `client went away after ${size} of ${length} body bytes`)));
    ctx.cancelAttempt = (reason) => done(failure(reason instanceof CancelReason ? reason : new CancelReason('DC', reason.message)));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function failure(reason: CancelReason): Outcome {
  const flag = reason.outriggerFlag;
  return { status: flag === 'DPE' ? 400 : flag === 'DC' ? 499 : 0, committed: false, flag, detail: reason.message };
}
