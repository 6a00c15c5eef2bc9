import type { Endpoint } from '../../endpoints/endpoint.ts';
import type { Logger } from '../../log.ts';
import type { Outcome } from '../../pipeline/context.ts';
import { isGatewayError, isUpstreamFailure } from '../circuit/failure.ts';
import { decayedTimesEjected, ejectionBudget, ejectionDurationMs, timesEjectedCap } from './ejection-policy.ts';
import type { OutlierOptions } from './resolve.ts';
import { systemScheduler, type Scheduler } from './scheduler.ts';

/** One endpoint as `/clusters` shows it. */
export interface EndpointOutlierState {
  ejected: boolean;
  /** Wall-clock time the ejection ends, ISO 8601; undefined when not ejected. */
  ejectedUntil: string | undefined;
  /** The multiplier of the next ejection's duration, after decay. */
  timesEjected: number;
  /** Ejections of this endpoint since the detector (or its predecessors) started tracking it. */
  ejections: number;
  consecutive5xx: number;
  consecutiveGateway: number;
}

export interface OutlierStats {
  options: OutlierOptions;
  ejectedNow: number;
  ejections: number;
  ejectionsConsecutive5xx: number;
  ejectionsConsecutiveGateway: number;
  returns: number;
  /** Ejections refused by the percentage or last-healthy rule (Envoy `ejections_overflow`). */
  overflows: number;
}

type EjectionReason = 'consecutive 5xx' | 'consecutive gateway errors';

interface Tracked {
  consecutive5xx: number;
  consecutiveGateway: number;
  ejected: boolean;
  ejectedAt: number;
  ejectedUntil: number;
  timesEjected: number;
  returnedAt: number;
  ejections: number;
  cancelReturn: (() => void) | undefined;
  /** A refused ejection is logged once until the endpoint succeeds or is ejected. */
  refusalLogged: boolean;
}

export interface OutlierDetectorInit {
  /** The Service as `name.namespace`, for logs. */
  service: string;
  endpoints: readonly Endpoint[];
  options: OutlierOptions;
  logger: Logger;
  scheduler?: Scheduler | undefined;
  /**
   * The previous config generation's detector for this Service. Endpoints carried over (the same `Endpoint`
   * objects) keep their counters, `timesEjected` and any running ejection, which this detector takes over.
   */
  previous?: OutlierDetector | undefined;
}

/**
 * Passive health checking for one Service: Envoy's consecutive-5xx and consecutive-gateway-failure outlier
 * detection. An endpoint that fails `consecutive5xx` times in a row (or `consecutiveGatewayErrors` gateway errors)
 * is ejected, `endpoint.healthy = false` so the balancers skip it, for `baseEjectionTime × timesEjected` (at most
 * `maxEjectionTime`), then returns on its own timer. A success resets the counters; outcomes of an ejected
 * endpoint's last requests are ignored. No ejection may take the ejected count past `ejectionBudget` or leave the
 * Service without a healthy endpoint; a refused ejection resets the counter that tripped, as in Envoy, so the next
 * attempt comes after another full streak.
 */
export class OutlierDetector {
  readonly service: string;
  readonly options: OutlierOptions;
  private readonly endpoints: readonly Endpoint[];
  private readonly logger: Logger;
  private readonly scheduler: Scheduler;
  private readonly tracked = new Map<Endpoint, Tracked>();
  private readonly timesCap: number;
  private ejectedCount = 0;
  private closed = false;
  private readonly stats = { ejections: 0, ejectionsConsecutive5xx: 0, ejectionsConsecutiveGateway: 0, returns: 0, overflows: 0 };

  constructor(init: OutlierDetectorInit) {
    this.service = init.service;
    this.options = { ...init.options };
    this.endpoints = init.endpoints;
    this.logger = init.logger;
    this.scheduler = init.scheduler ?? systemScheduler;
    this.timesCap = timesEjectedCap(this.options.baseEjectionTimeMs, this.options.maxEjectionTimeMs);
    const inherited = init.previous?.handOver(init.endpoints);
    for (const endpoint of init.endpoints) {
      const carried = inherited?.get(endpoint);
      if (carried?.ejected) {
        this.ejectedCount++;
        carried.cancelReturn = this.scheduleReturn(endpoint, carried, carried.ejectedUntil - this.scheduler.now());
      }
      this.tracked.set(endpoint, carried ?? freshState());
    }
  }

  /** Feeds one finished attempt to `endpoint`. Called by the observer layer; DC outcomes never reach it. */
  observe(endpoint: Endpoint, outcome: Outcome): void {
    const state = this.tracked.get(endpoint);
    if (!state || state.ejected || this.closed) return;
    if (!isUpstreamFailure(outcome)) {
      state.consecutive5xx = 0;
      state.consecutiveGateway = 0;
      state.refusalLogged = false;
      return;
    }
    state.consecutive5xx++;
    if (isGatewayError(outcome)) state.consecutiveGateway++;
    else state.consecutiveGateway = 0;
    const { consecutive5xx, consecutiveGatewayErrors } = this.options;
    const byGateway = consecutiveGatewayErrors > 0 && state.consecutiveGateway >= consecutiveGatewayErrors;
    const by5xx = consecutive5xx > 0 && state.consecutive5xx >= consecutive5xx;
    if (byGateway || by5xx) this.tryEject(endpoint, state, byGateway ? 'consecutive gateway errors' : 'consecutive 5xx');
  }

  /** Per endpoint view for `/clusters`; undefined for an endpoint this detector does not track. */
  state(endpoint: Endpoint): EndpointOutlierState | undefined {
    const state = this.tracked.get(endpoint);
    if (!state) return undefined;
    const now = this.scheduler.now();
    return {
      ejected: state.ejected,
      ejectedUntil: state.ejected ? new Date(Date.now() + Math.max(0, state.ejectedUntil - now)).toISOString() : undefined,
      timesEjected: this.currentTimes(state, now),
      ejections: state.ejections,
      consecutive5xx: state.consecutive5xx,
      consecutiveGateway: state.consecutiveGateway,
    };
  }

  summary(): OutlierStats {
    return { options: { ...this.options }, ejectedNow: this.ejectedCount, ...this.stats };
  }

  /**
   * Stops the return timers and puts every endpoint this detector still holds ejected back in service, so an
   * `Endpoint` object reused later is never stuck unhealthy. Observations after `close()` are ignored.
   */
  close(): void {
    this.closed = true;
    for (const [endpoint, state] of this.tracked) {
      state.cancelReturn?.();
      state.cancelReturn = undefined;
      if (state.ejected) {
        state.ejected = false;
        endpoint.healthy = true;
      }
    }
    this.ejectedCount = 0;
  }

  /** Gives up the given endpoints' state (timers stopped) to the next generation's detector. */
  private handOver(endpoints: readonly Endpoint[]): Map<Endpoint, Tracked> {
    const given = new Map<Endpoint, Tracked>();
    for (const endpoint of endpoints) {
      const state = this.tracked.get(endpoint);
      if (!state) continue;
      state.cancelReturn?.();
      state.cancelReturn = undefined;
      if (state.ejected) this.ejectedCount--;
      this.tracked.delete(endpoint);
      given.set(endpoint, state);
    }
    return given;
  }

  private tryEject(endpoint: Endpoint, state: Tracked, reason: EjectionReason): void {
    const refusal = this.refusal(endpoint);
    if (refusal !== undefined) {
      this.stats.overflows++;
      if (reason === 'consecutive gateway errors') state.consecutiveGateway = 0;
      else state.consecutive5xx = 0;
      if (!state.refusalLogged) {
        state.refusalLogged = true;
        this.logger.warn(`endpoint ${endpoint.address} of Service ${this.service} not ejected after ${reason}: ${refusal}`, {
          service: this.service,
          endpoint: endpoint.address,
          reason,
        });
      }
      return;
    }
    const now = this.scheduler.now();
    const times = Math.min(this.timesCap, this.currentTimes(state, now) + 1);
    const durationMs = ejectionDurationMs(times, this.options.baseEjectionTimeMs, this.options.maxEjectionTimeMs);
    const streak = reason === 'consecutive gateway errors' ? state.consecutiveGateway : state.consecutive5xx;
    state.ejected = true;
    state.ejectedAt = now;
    state.ejectedUntil = now + durationMs;
    state.timesEjected = times;
    state.ejections++;
    state.consecutive5xx = 0;
    state.consecutiveGateway = 0;
    state.refusalLogged = false;
    state.cancelReturn = this.scheduleReturn(endpoint, state, durationMs);
    endpoint.healthy = false;
    this.ejectedCount++;
    this.stats.ejections++;
    if (reason === 'consecutive gateway errors') this.stats.ejectionsConsecutiveGateway++;
    else this.stats.ejectionsConsecutive5xx++;
    this.logger.warn(`endpoint ${endpoint.address} of Service ${this.service} ejected for ${durationMs} ms after ${streak} ${reason}`, {
      service: this.service,
      endpoint: endpoint.address,
      reason,
      ejectionMs: durationMs,
      timesEjected: times,
    });
  }

  /** Why ejecting `endpoint` now is not allowed, or undefined when it is. */
  private refusal(endpoint: Endpoint): string | undefined {
    const budget = ejectionBudget(this.endpoints.length, this.options.maxEjectionPercent);
    if (this.ejectedCount >= budget) {
      return `max ejection percent (${this.options.maxEjectionPercent} %) allows ${budget} of ${this.endpoints.length} endpoints ejected at once`;
    }
    for (const other of this.endpoints) if (other !== endpoint && other.healthy) return undefined;
    return 'it is the last healthy endpoint';
  }

  private scheduleReturn(endpoint: Endpoint, state: Tracked, delayMs: number): () => void {
    return this.scheduler.after(Math.max(0, delayMs), () => {
      state.cancelReturn = undefined;
      if (!state.ejected || this.closed) return;
      const now = this.scheduler.now();
      state.ejected = false;
      state.returnedAt = now;
      endpoint.healthy = true;
      this.ejectedCount--;
      this.stats.returns++;
      this.logger.info(`endpoint ${endpoint.address} of Service ${this.service} returned after ${Math.round(now - state.ejectedAt)} ms ejected`, {
        service: this.service,
        endpoint: endpoint.address,
        timesEjected: state.timesEjected,
      });
    });
  }

  private currentTimes(state: Tracked, now: number): number {
    if (state.ejected) return state.timesEjected;
    return decayedTimesEjected(state.timesEjected, state.returnedAt, now, this.options.intervalMs);
  }
}

function freshState(): Tracked {
  return {
    consecutive5xx: 0,
    consecutiveGateway: 0,
    ejected: false,
    ejectedAt: 0,
    ejectedUntil: 0,
    timesEjected: 0,
    returnedAt: 0,
    ejections: 0,
    cancelReturn: undefined,
    refusalLogged: false,
  };
}
