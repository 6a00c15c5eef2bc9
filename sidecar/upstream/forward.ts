import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { applyHeaderModifier } from '../routing/filters.ts';
import { forwardableTrailers, stripHopByHop } from '../http/headers.ts';
import type { Handler, Outcome, RequestContext } from '../pipeline/context.ts';
import type { AttemptTrace } from '../observability/request-trace.ts';
import { classifyUpstreamError } from './classify-error.ts';

export interface AttemptTarget {
  pool: Dispatcher;
  /** For requests that announce trailers: undici cannot send request trailers. */
  trailerCapable: () => Pick<Dispatcher, 'dispatch'>;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

/**
 * The end of every chain: sends the request to `ctx.endpoint` through its pool and streams the response
 * straight into the client's socket with back-pressure. undici's dispatch API is used directly because it
 * avoids a Readable per response (measured: `request()` piped through `pipeline` was 2.5× slower).
 */
export function forwardTo(resolveTarget: (ctx: RequestContext) => AttemptTarget): Handler {
  return (ctx) =>
    new Promise<Outcome>((resolve) => {
      const target = resolveTarget(ctx);
      const handler = new ForwardHandler(ctx, resolve, ctx.trace?.attemptStart(ctx, ctx.endpoint));
      ctx.attempts++;
      try {
        const dispatcher = ctx.announcesTrailers ? target.trailerCapable() : target.pool;
        dispatcher.dispatch(
          {
            path: ctx.upstreamPath,
            method: ctx.method as Dispatcher.HttpMethod,
            headers: ctx.upstreamHeaders as Record<string, string | string[]>,
            body: ctx.replayBody ?? (ctx.hasBody ? ctx.req : null),
            headersTimeout: target.headersTimeoutMs,
            bodyTimeout: target.bodyTimeoutMs,
          },
          handler,
        );
      } catch (error) {
        // A closed pool (its endpoint left the config while this request ran on the old generation) throws here
        // rather than through the handler: settle the attempt as a failure, so it is retried and counted.
        handler.fail(error instanceof Error ? error : new Error(String(error)));
      }
    });
}

const MAX_DRAIN_BYTES = 64 * 1024;

/** `Retry-After` as delay-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

class ForwardHandler implements Dispatcher.DispatchHandler {
  private readonly ctx: RequestContext;
  private readonly resolve: (outcome: Outcome) => void;
  private status = 0;
  private committed = false;
  /** Draining a response the retry layer wants to retry: it is read and dropped, never sent. */
  private discarding = false;
  private discarded = 0;
  private retryAfterMs: number | undefined;
  private settled = false;
  private controller: Dispatcher.DispatchController | undefined;
  private readonly cancel: (reason: Error) => void;
  private readonly startedAt = performance.now();

  private readonly attemptTrace: AttemptTrace | undefined;

  constructor(ctx: RequestContext, resolve: (outcome: Outcome) => void, attemptTrace: AttemptTrace | undefined) {
    this.ctx = ctx;
    this.resolve = resolve;
    this.attemptTrace = attemptTrace;
    const endpoint = ctx.endpoint;
    if (endpoint) endpoint.active++;
    // Cancellable from the start: an attempt still queued for a connection is abandoned at once and aborted
    // when undici hands it over, rather than holding the request until the connect timeout.
    this.cancel = (reason) => {
      if (this.controller) {
        this.controller.abort(reason);
        return;
      }
      const flag = (reason as { outriggerFlag?: Outcome['flag'] }).outriggerFlag ?? 'UC';
      this.finish({ status: flag === 'DC' ? 499 : 0, committed: false, flag, detail: reason.message });
    };
    ctx.cancelAttempt = this.cancel;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new Error('attempt abandoned before it started'));
    else if (this.ctx.cancelled) controller.abort(this.ctx.cancelled);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    const ctx = this.ctx;
    if (ctx.cancelled || this.settled) {
      controller.abort(ctx.cancelled ?? new Error("attempt abandoned"));
      return;
    }
    const res = ctx.res;
    this.status = statusCode;
    if (statusCode < 200) return; // interim responses other than 101 are not forwarded
    if (ctx.retryableResponse?.(statusCode, headers)) {
      this.discarding = true;
      this.retryAfterMs = parseRetryAfter(headers['retry-after']);
      return;
    }
    stripHopByHop(headers, false);
    const modifiers = ctx.responseHeaderModifiers;
    if (modifiers) for (const modifier of modifiers) applyHeaderModifier(headers, modifier);
    try {
      res.writeHead(statusCode, headers as Record<string, string | string[]>);
    } catch (error) {
      // A header undici's parser let through but Node will not write: the response cannot be relayed as it is.
      controller.abort(Object.assign(new Error(`upstream response header cannot be relayed: ${(error as Error).message}`), { outriggerFlag: 'UPE' }));
      return;
    }
    this.committed = true;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.discarding) {
      // Small error bodies are drained so the connection stays reusable; a large one is not worth reading.
      this.discarded += chunk.length;
      if (this.discarded > MAX_DRAIN_BYTES) controller.abort(new Error('retried response too large to drain'));
      return;
    }
    const res = this.ctx.res;
    this.ctx.bytesSent += chunk.length;
    if (!res.write(chunk)) {
      controller.pause();
      res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    if (this.discarding) {
      this.finish({ status: this.status, committed: false, retryAfterMs: this.retryAfterMs });
      return;
    }
    const res = this.ctx.res;
    for (const _name in trailers) {
      res.addTrailers(forwardableTrailers(trailers));
      break;
    }
    res.end();
    this.finish({ status: this.status, committed: true });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }

  fail(error: Error): void {
    const ctx = this.ctx;
    if (ctx.cancelled?.outriggerFlag === 'DC') {
      this.finish({ status: 499, committed: this.committed, flag: 'DC' });
      return;
    }
    if (this.discarding) {
      this.finish({ status: this.status, committed: false, retryAfterMs: this.retryAfterMs });
      return;
    }
    const flag = (error as { outriggerFlag?: Outcome['flag'] }).outriggerFlag ?? classifyUpstreamError(error);
    if (this.committed) {
      // Headers are out: the only honest signal left is to cut the client's connection.
      ctx.res.destroy(error);
    }
    this.finish({ status: this.committed ? this.status : 0, committed: this.committed, flag, detail: error.message });
  }

  private finish(outcome: Outcome): void {
    if (this.settled) return;
    this.settled = true;
    const ctx = this.ctx;
    if (ctx.cancelAttempt === this.cancel) ctx.cancelAttempt = undefined;
    const endpoint = ctx.endpoint;
    if (endpoint) {
      endpoint.active--;
      endpoint.completed++;
      const failed = outcome.flag !== undefined || outcome.status >= 500;
      if (failed) endpoint.failed++;
      const now = performance.now();
      if (outcome.flag !== 'DC' && outcome.flag !== 'SI') endpoint.observeLatency(now - this.startedAt, now);
    }
    this.attemptTrace?.end(outcome);
    this.resolve(outcome);
  }
}
