import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { Endpoint } from '../../endpoints/endpoint.ts';
import type { ReasonFlag } from '../../http/reason.ts';
import { CancelReason, type Handler, type Outcome, type RequestContext } from '../../pipeline/context.ts';
import { fakeContext } from '../../pipeline/fake-context.ts';

/** Test support for the retry layer: a request context, a scripted upstream and a manual clock. */

export interface RetryContextOptions {
  method?: string;
  headers?: IncomingHttpHeaders;
  /** The client's body stream; the context then has a body and reads it from here. */
  body?: Readable;
  deadlineAt?: number;
}

export function retryContext(options: RetryContextOptions = {}): RequestContext {
  const base = fakeContext({ method: options.method ?? 'GET', headers: options.headers ?? {} });
  const ctx: RequestContext = options.body
    ? { ...base, req: Object.assign(options.body, { headers: base.req.headers, method: base.method }) as unknown as IncomingMessage, hasBody: true }
    : base;
  if (options.deadlineAt !== undefined) ctx.deadlineAt = options.deadlineAt;
  return ctx;
}

/** One attempt's scripted result: a response status, a failure without a response, or no answer until aborted. */
export type Step = { status: number; retryAfter?: string } | { flag: ReasonFlag; detail?: string } | { hang: true };

export interface ScriptedUpstream {
  handler: Handler;
  /** Endpoint each attempt went to. */
  endpoints: Endpoint[];
  /** `ctx.replayBody` as each attempt saw it. */
  bodies: (Buffer | undefined)[];
  /** Responses dropped for a retry rather than sent. */
  dropped: number[];
}

/**
 * Plays the part of pickEndpoint + forwarder: picks an endpoint not tried yet, asks `ctx.retryableResponse` when a
 * response starts (dropping it when the answer is true, as the forwarder does), and lets a hanging attempt be
 * aborted through `ctx.cancelAttempt`. Past the end of the script, every attempt answers 200.
 */
export function scriptedUpstream(steps: readonly Step[], endpointCount = 3): ScriptedUpstream {
  const pool = Array.from({ length: endpointCount }, (_, i) => new Endpoint({ address: `10.0.0.${i + 1}:8080` }));
  const upstream: ScriptedUpstream = { handler: () => Promise.reject(new Error('unset')), endpoints: [], bodies: [], dropped: [] };
  upstream.handler = (ctx) => {
    const step = steps[upstream.endpoints.length] ?? { status: 200 };
    const endpoint = pool.find((e) => !ctx.triedEndpoints?.has(e)) ?? pool[0]!;
    ctx.endpoint = endpoint;
    ctx.attempts++;
    upstream.endpoints.push(endpoint);
    upstream.bodies.push(ctx.replayBody);
    if ('hang' in step) {
      return new Promise<Outcome>((resolve) => {
        ctx.cancelAttempt = (reason) => {
          ctx.cancelAttempt = undefined;
          const flag = reason instanceof CancelReason ? reason.outriggerFlag : 'UC';
          resolve({ status: 0, committed: false, flag, detail: reason.message });
        };
      });
    }
    if ('flag' in step) return Promise.resolve({ status: 0, committed: false, flag: step.flag, detail: step.detail });
    const headers: IncomingHttpHeaders = step.retryAfter === undefined ? {} : { 'retry-after': step.retryAfter };
    if (ctx.retryableResponse?.(step.status, headers)) {
      upstream.dropped.push(step.status);
      const retryAfterMs = step.retryAfter === undefined ? undefined : Number(step.retryAfter) * 1000;
      return Promise.resolve({ status: step.status, committed: false, retryAfterMs });
    }
    return Promise.resolve({ status: step.status, committed: true });
  };
  return upstream;
}

/** A clock that only moves when told, and a sleep that moves it. */
export class ManualClock {
  time = 0;
  readonly sleeps: number[] = [];
  readonly now = (): number => this.time;
  readonly sleep = (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.time += ms;
    return Promise.resolve();
  };
}

/** A sleep that never ends on its own: only an abort (or the test) finishes it. */
export function endlessSleep(onStart?: () => void): (ms: number, signal: AbortSignal) => Promise<void> {
  return (_ms, signal) =>
    new Promise((resolve) => {
      signal.addEventListener('abort', () => resolve(), { once: true });
      onStart?.();
    });
}

/** A seeded uniform [0, 1) generator (Park–Miller), for reproducible jitter. */
export function seededRandom(seed: number): () => number {
  let state = seed % 2147483647 || 1;
  return () => {
    state = (state * 16807) % 2147483647;
    return (state - 1) / 2147483646;
  };
}
