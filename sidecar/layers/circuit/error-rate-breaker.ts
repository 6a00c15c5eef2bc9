import CircuitBreaker from 'opossum';
import type { Logger } from '../../log.ts';
import type { Handler, Layer, Outcome, RequestContext } from '../../pipeline/context.ts';
import { isUpstreamFailure } from './failure.ts';
import type { ErrorRateOptions } from './resolve.ts';

export type BreakerStateName = 'closed' | 'open' | 'half-open';

export interface BreakerState {
  state: BreakerStateName;
  options: ErrorRateOptions;
  /** Transitions since the breaker was created. */
  opens: number;
  halfOpens: number;
  closes: number;
  /** Passes judged by `isUpstreamFailure` / not, and passes refused with `CO`, since creation. */
  failures: number;
  successes: number;
  shortCircuited: number;
  /** What the rolling window holds now: the numbers the open decision reads. */
  window: { requests: number; failures: number; errorRatePercent: number };
}

/** Carries a failed outcome through opossum's rejection path, which is how opossum learns of a failure. */
class FailedOutcome {
  readonly outcome: Outcome;
  constructor(outcome: Outcome) {
    this.outcome = outcome;
  }
}

/** opossum's action: fixed, so no closure is made per request; `next` travels as an argument. */
function runPass(ctx: RequestContext, next: Handler): Promise<Outcome> {
  return next(ctx).then(judge);
}

function judge(outcome: Outcome): Outcome {
  if (isUpstreamFailure(outcome)) throw new FailedOutcome(outcome);
  return outcome;
}

/**
 * An error-rate circuit breaker for one upstream Service, on opossum (9.0.0 is what node_modules holds):
 *
 * - **closed**: every pass runs; opossum counts it in a rolling window of `windowMs` (10 buckets). When a pass fails
 *   and the window holds at least `volumeThreshold` requests of which more than `thresholdPercent` % failed, it opens.
 *   Requests still in flight count in the window's total (opossum counts a request when it starts).
 * - **open**: passes end at once with `503 CO`, not committed, without calling `next`.
 * - **half-open**, after `resetTimeoutMs`: opossum lets exactly **one** real request through as the probe (its
 *   `pendingClose` flag is cleared by the first `fire`); others still get `CO` while it runs. A probe judged a success
 *   closes the breaker, a failed one reopens it for another `resetTimeoutMs`. (opossum closes on any success while
 *   half-open, so a request admitted before the breaker opened and finishing well now also closes it.) A probe that is neither (client gone,
 *   `DC`; overflow, `UO`) resolves opossum's promise and so counts as a success: it closes the breaker.
 *   A probe still running after `resetTimeoutMs` reopens the breaker, so one hung request cannot hold it half-open
 *   until the stream idle timeout.
 *
 * opossum's per-call `timeout` is disabled (the deadline layer owns timeouts and aborts the attempt; opossum's would
 * only reject the promise while the request ran on) and so are snapshots and latency percentiles. Its remaining
 * timers (bucket rotation, reset) are unref'ed by opossum; the probe timer is unref'ed here; `shutdown()` clears
 * them all. Passes arriving after `shutdown()` (a chain of the old generation) run unprotected rather than fail.
 */
export class ErrorRateBreaker {
  readonly service: string;
  readonly options: ErrorRateOptions;
  private readonly breaker: CircuitBreaker<[RequestContext, Handler], Outcome>;
  private readonly logger: Logger;
  private current: BreakerStateName = 'closed';
  private probeTimer: NodeJS.Timeout | undefined;
  private probeTimedOut = false;
  private counts = { opens: 0, halfOpens: 0, closes: 0, failures: 0, successes: 0, shortCircuited: 0 };

  constructor(service: string, options: ErrorRateOptions, logger: Logger) {
    this.service = service;
    this.options = { ...options };
    this.logger = logger;
    this.breaker = new CircuitBreaker(runPass, {
      name: service,
      timeout: false,
      errorThresholdPercentage: options.thresholdPercent,
      volumeThreshold: options.volumeThreshold,
      rollingCountTimeout: options.windowMs,
      rollingCountBuckets: 10,
      resetTimeout: options.resetTimeoutMs,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    this.breaker.on('open', () => this.onOpen());
    this.breaker.on('halfOpen', () => this.onHalfOpen());
    this.breaker.on('close', () => this.onClose());
  }

  /** The layer for this Service's chains; several chains may share one breaker. */
  readonly layer: Layer = (next: Handler): Handler => (ctx) => this.run(ctx, next);

  state(): BreakerState {
    const stats = this.breaker.stats;
    return {
      state: this.current,
      options: { ...this.options },
      ...this.counts,
      window: {
        requests: stats.fires,
        failures: stats.failures,
        errorRatePercent: stats.fires === 0 ? 0 : Math.round((stats.failures / stats.fires) * 10_000) / 100,
      },
    };
  }

  /** Stops opossum's timers and the probe timer. Safe to call twice. */
  shutdown(): void {
    this.clearProbeTimer();
    if (!this.breaker.isShutdown) this.breaker.shutdown();
  }

  private run(ctx: RequestContext, next: Handler): Promise<Outcome> {
    const breaker = this.breaker;
    if (breaker.isShutdown) return next(ctx);
    // opossum's own admission test, made here so a refusal costs no Error and no event.
    if (!breaker.closed && !breaker.pendingClose) return Promise.resolve(this.refuse());
    const probe = breaker.halfOpen;
    const pass = breaker.fire(ctx, next).then(this.settled, this.failed);
    if (probe) this.watchProbe(pass);
    return pass;
  }

  private readonly settled = (outcome: Outcome): Outcome => {
    this.counts.successes++;
    return outcome;
  };

  private readonly failed = (error: unknown): Outcome => {
    if (error instanceof FailedOutcome) {
      this.counts.failures++;
      return error.outcome;
    }
    if (error instanceof Error && CircuitBreaker.isOurError(error) && (error as { code?: string }).code === 'EOPENBREAKER') {
      return this.refuse();
    }
    this.counts.failures++;
    throw error;
  };

  private refuse(): Outcome {
    this.counts.shortCircuited++;
    return { status: 503, committed: false, flag: 'CO', detail: `circuit open for Service ${this.service}` };
  }

  private watchProbe(pass: Promise<Outcome>): void {
    this.clearProbeTimer();
    const timer = setTimeout(() => {
      this.probeTimer = undefined;
      if (!this.breaker.halfOpen) return;
      this.probeTimedOut = true;
      this.breaker.open();
    }, this.options.resetTimeoutMs);
    timer.unref();
    this.probeTimer = timer;
    const done = (): void => {
      if (this.probeTimer === timer) this.clearProbeTimer();
    };
    pass.then(done, done);
  }

  private clearProbeTimer(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  private onOpen(): void {
    const from = this.current;
    this.current = 'open';
    this.counts.opens++;
    const reason = from === 'half-open' ? (this.probeTimedOut ? 'probe timed out' : 'probe failed') : 'error rate over threshold';
    this.probeTimedOut = false;
    const { window } = this.state();
    this.logger.warn(`circuit breaker opened for Service ${this.service}: ${reason}`, {
      service: this.service,
      reason,
      requests: window.requests,
      failures: window.failures,
      errorRatePercent: window.errorRatePercent,
      retryInMs: this.options.resetTimeoutMs,
    });
  }

  private onHalfOpen(): void {
    this.current = 'half-open';
    this.counts.halfOpens++;
    this.logger.info(`circuit breaker half-open for Service ${this.service}: next request is the probe`, { service: this.service });
  }

  private onClose(): void {
    this.clearProbeTimer();
    this.current = 'closed';
    this.counts.closes++;
    this.logger.info(`circuit breaker closed for Service ${this.service}`, { service: this.service });
  }
}

/** The layer for a Service's chain, or nothing when the breaker is not configured. */
export function circuitBreaker(breaker: ErrorRateBreaker | undefined): Layer | undefined {
  return breaker?.layer;
}
