import type { Endpoint } from '../endpoints/endpoint.ts';
import type { Outcome, RequestContext } from '../pipeline/context.ts';

/**
 * What the request path tells tracing. The listener starts a trace for each request (or gets none when tracing is
 * off or the request is not sampled: then nothing below costs anything), the forwarder reports each attempt, and
 * the entry ends it with the outcome.
 */
export interface RequestTrace {
  /** The trace id (32 hex digits), for access logs. */
  readonly traceId?: string | undefined;
  /** Before an attempt is dispatched; may write propagation headers (traceparent, b3, uber-trace-id) into `ctx.upstreamHeaders`. */
  attemptStart(ctx: RequestContext, endpoint: Endpoint | undefined): AttemptTrace;
  /** A notable moment in the request's life: `retry`, `rate_limited`, `circuit_open`, `endpoint_ejected`, … */
  event(name: string, attributes?: Record<string, string | number | boolean>): void;
  end(ctx: RequestContext, outcome: Outcome): void;
}

export interface AttemptTrace {
  end(outcome: Outcome): void;
}

/** Starts a trace for a request, or returns undefined when this request is not traced. */
export interface RequestTracer {
  begin(ctx: RequestContext): RequestTrace | undefined;
}
