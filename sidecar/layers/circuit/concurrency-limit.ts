import type { Handler, Layer, Outcome, RequestContext } from '../../pipeline/context.ts';
import type { ConcurrencyLimits } from './resolve.ts';

/**
 * Per upstream Service concurrency limits, Envoy's cluster circuit breaker thresholds in one counter model:
 *
 * - **in flight**: requests past this layer that have not finished (the handler's promise has not settled),
 *   retries included. Refused at `maxParallelRequests` (Envoy `max_requests`).
 * - **pending**: `in flight − maxConnections`, the requests that cannot all hold a connection at once and so wait
 *   in an endpoint pool's queue (HTTP/1.1: one request per connection). Refused when pending would exceed
 *   `maxPendingRequests` (Envoy `max_pending_requests`), i.e. at `in flight = maxConnections + maxPendingRequests`.
 *   This holds when the pools together open at most `maxConnections`, which `poolSizePerEndpoint` arranges.
 * - **retries**: in-flight passes that `isRetryPass` says are retries. Refused at `maxParallelRetries` (Envoy
 *   `max_retries`).
 *
 * A refusal is `503 UO`, not committed, naming the limit in `detail`; nothing is queued and nothing waits.
 */
export type LimitName = 'requests' | 'pending' | 'retries';

export interface ConcurrencyState {
  limits: ConcurrencyLimits;
  inFlight: number;
  pending: number;
  retriesInFlight: number;
  /** Refusals per limit since the limiter was created. */
  overflows: Record<LimitName, number>;
}

export class ConcurrencyLimiter {
  readonly service: string;
  private limits: ConcurrencyLimits;
  private inFlight = 0;
  private retriesInFlight = 0;
  private readonly overflows: Record<LimitName, number> = { requests: 0, pending: 0, retries: 0 };

  constructor(service: string, limits: ConcurrencyLimits) {
    this.service = service;
    this.limits = { ...limits };
  }

  /**
   * New limits for the next config generation. Keeping one limiter per Service across reloads keeps the in-flight
   * counts exact: requests still running on the old chain release into the same counters.
   */
  update(limits: ConcurrencyLimits): void {
    this.limits = { ...limits };
  }

  /** Takes a slot, or names the limit that refuses it. */
  tryAcquire(retry: boolean): LimitName | undefined {
    const limits = this.limits;
    if (retry && this.retriesInFlight >= limits.maxParallelRetries) return this.refuse('retries');
    if (this.inFlight >= limits.maxParallelRequests) return this.refuse('requests');
    if (this.inFlight - limits.maxConnections >= limits.maxPendingRequests) return this.refuse('pending');
    this.inFlight++;
    if (retry) this.retriesInFlight++;
    return undefined;
  }

  release(retry: boolean): void {
    this.inFlight--;
    if (retry) this.retriesInFlight--;
  }

  /** Text for `detail` and logs: which limit, its value, and the Service. */
  describe(limit: LimitName): string {
    const limits = this.limits;
    switch (limit) {
      case 'requests':
        return `max parallel requests (${limits.maxParallelRequests}) reached for Service ${this.service}`;
      case 'pending':
        return `max pending requests (${limits.maxPendingRequests} beyond ${limits.maxConnections} connections) reached for Service ${this.service}`;
      case 'retries':
        return `max parallel retries (${limits.maxParallelRetries}) reached for Service ${this.service}`;
    }
  }

  state(): ConcurrencyState {
    return {
      limits: { ...this.limits },
      inFlight: this.inFlight,
      pending: Math.max(0, this.inFlight - this.limits.maxConnections),
      retriesInFlight: this.retriesInFlight,
      overflows: { ...this.overflows },
    };
  }

  private refuse(limit: LimitName): LimitName {
    this.overflows[limit]++;
    return limit;
  }
}

/** Whether this pass is a retry: the forwarder counts attempts as they go out, so any earlier attempt means yes. */
export function isRetryPass(ctx: RequestContext): boolean {
  return ctx.attempts > 0;
}

/**
 * Pool size for each of a Service's endpoints so that together they open about `maxConnections`:
 * `ceil(maxConnections / endpoints)`, at least 1, and at most `perEndpointCap` (the Mesh's
 * `upstream.maxConnectionsPerEndpoint`) when given.
 */
export function poolSizePerEndpoint(maxConnections: number, endpointCount: number, perEndpointCap = Number.POSITIVE_INFINITY): number {
  const share = Math.ceil(maxConnections / Math.max(1, endpointCount));
  return Math.max(1, Math.min(perEndpointCap, share));
}

/** The layer: admits the pass or answers `503 UO` at once; releases its slot when the pass settles. */
export function concurrencyLimit(limiter: ConcurrencyLimiter, isRetry: (ctx: RequestContext) => boolean = isRetryPass): Layer {
  return (next: Handler): Handler => {
    // Settlement handlers made once per chain, not per request.
    const releaseFirst = (outcome: Outcome): Outcome => {
      limiter.release(false);
      return outcome;
    };
    const releaseRetry = (outcome: Outcome): Outcome => {
      limiter.release(true);
      return outcome;
    };
    const releaseFirstOnError = (error: unknown): never => {
      limiter.release(false);
      throw error;
    };
    const releaseRetryOnError = (error: unknown): never => {
      limiter.release(true);
      throw error;
    };
    return (ctx) => {
      const retry = isRetry(ctx);
      const refused = limiter.tryAcquire(retry);
      if (refused !== undefined) {
        return Promise.resolve({ status: 503, committed: false, flag: 'UO', detail: limiter.describe(refused) });
      }
      let pass: Promise<Outcome>;
      try {
        pass = next(ctx);
      } catch (error) {
        limiter.release(retry);
        throw error;
      }
      return retry ? pass.then(releaseRetry, releaseRetryOnError) : pass.then(releaseFirst, releaseFirstOnError);
    };
  };
}
