import type { HTTPRouteRule } from '../../../policy/schema/http-route.ts';
import type { TrafficPolicy } from '../../../policy/schema/traffic-policy.ts';

export type TrafficPolicyRetry = NonNullable<TrafficPolicy['spec']['retry']>;
export type RouteRetry = NonNullable<HTTPRouteRule['retry']>;
export type RetryTrigger = NonNullable<NonNullable<TrafficPolicyRetry['retryOn']>['triggers']>[number];

/** What makes an attempt worth retrying, with Envoy's `retry_on` triggers expanded into plain facts. */
export interface RetryConditions {
  /** Response statuses that are retried. */
  readonly statuses: ReadonlySet<number>;
  /** `UF`, `UCT`: the connection never opened, so nothing reached the app. */
  readonly connectFailure: boolean;
  /** HTTP/2 REFUSED_STREAM: the app refused the stream before processing it. */
  readonly refusedStream: boolean;
  /** `UC`, `UPE`: the upstream reset, closed or garbled the exchange; the app may have processed the request. */
  readonly reset: boolean;
  /** `UT`: the attempt timed out (per-try timeout or header timeout). */
  readonly timeout: boolean;
}

export interface RetryBudgetConfig {
  /** Retries allowed as a share of requests in the window (0.2 = 20 %). */
  readonly ratio: number;
  /** Retries always allowed per second, however few requests there are. */
  readonly minRetriesPerSecond: number;
  readonly windowMs: number;
}

export interface RetryPolicy {
  /** Retries after the first attempt; 0 disables retrying. */
  readonly numRetries: number;
  readonly retryOn: RetryConditions;
  /** Time one attempt may take until its response starts; undefined = only the request deadline applies. */
  readonly perTryTimeoutMs: number | undefined;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  /** Largest request body kept for replay; larger or chunked bodies get exactly one attempt. */
  readonly bufferLimitBytes: number;
  readonly budget: RetryBudgetConfig;
}

/**
 * Defaults, chosen so that a user of Istio or Linkerd finds retries on but conservative:
 * - 2 retries: Istio's `attempts: 2` (Envoy's own default is 1).
 * - connect-failure, refused-stream, reset, gateway-error: Istio retries connect-failure and refused-stream by
 *   default; gateway-error (502/503/504, plus resets and timeouts as Envoy counts them) rather than all 5xx,
 *   because a 500 is usually the app's own deterministic error.
 * - backoff 25 ms base, 250 ms cap: Envoy (`upstream.base_retry_backoff_ms`, cap = 10 × base).
 * - 64 KiB replay buffer: Linkerd never retries larger bodies.
 * - budget 20 % of requests plus a floor of 10 retries/s over 10 s: Linkerd's retry budget.
 */
export const DEFAULT_TRIGGERS: readonly RetryTrigger[] = ['connect-failure', 'refused-stream', 'reset', 'gateway-error'];
export const DEFAULT_NUM_RETRIES = 2;
export const DEFAULT_BACKOFF_BASE_MS = 25;
/** Envoy caps the backoff at 10 × base when no maximum is configured. */
export const BACKOFF_CAP_FACTOR = 10;
export const DEFAULT_BUFFER_LIMIT_BYTES = 64 * 1024;
export const DEFAULT_BUDGET: RetryBudgetConfig = { ratio: 0.2, minRetriesPerSecond: 10, windowMs: 10_000 };
/** A budget window shorter than this would have buckets too narrow to mean anything. */
export const MIN_BUDGET_WINDOW_MS = 1_000;

const GATEWAY_ERRORS = [502, 503, 504];

/**
 * The retry policy for one route to one Service: fields set on the HTTPRoute rule (Gateway API GEP-1731) override
 * the Service's TrafficPolicy, which overrides the defaults above.
 * - `attempts` replaces `numRetries` (both count retries, not attempts; 0 disables).
 * - `codes` replaces the set of retried statuses (so `codes: [503]` stops 502 and 504 from being retried), while
 *   the failure kinds the policy's triggers cover (connect failure, reset, timeout) stay, as GEP-1731 asks.
 * - `backoff` replaces the base interval; the cap is the policy's `maxInterval`, else 10 × base.
 */
export function resolveRetryPolicy(fromPolicy?: TrafficPolicyRetry, fromRoute?: RouteRetry): RetryPolicy {
  const conditions = conditionsFor(fromPolicy?.retryOn?.triggers ?? DEFAULT_TRIGGERS, fromPolicy?.retryOn?.httpStatusCodes ?? []);
  const retryOn = fromRoute?.codes ? { ...conditions, statuses: new Set(fromRoute.codes) } : conditions;
  const baseMs = fromRoute?.backoff ?? fromPolicy?.perRetry?.backOff?.baseInterval ?? DEFAULT_BACKOFF_BASE_MS;
  const maxMs = Math.max(baseMs, fromPolicy?.perRetry?.backOff?.maxInterval ?? baseMs * BACKOFF_CAP_FACTOR);
  const budget = fromPolicy?.budget;
  return {
    numRetries: fromRoute?.attempts ?? fromPolicy?.numRetries ?? DEFAULT_NUM_RETRIES,
    retryOn,
    perTryTimeoutMs: fromPolicy?.perRetry?.timeout || undefined,
    backoff: { baseMs, maxMs },
    bufferLimitBytes: fromPolicy?.bufferLimitBytes ?? DEFAULT_BUFFER_LIMIT_BYTES,
    budget: {
      ratio: budget?.percent !== undefined ? budget.percent / 100 : DEFAULT_BUDGET.ratio,
      minRetriesPerSecond: budget?.minRetriesPerSecond ?? DEFAULT_BUDGET.minRetriesPerSecond,
      windowMs: Math.max(MIN_BUDGET_WINDOW_MS, budget?.window ?? DEFAULT_BUDGET.windowMs),
    },
  };
}

/**
 * Expands Envoy's triggers. As in Envoy's `RetryStateImpl`, `5xx` and `gateway-error` also cover every failure
 * without a response (connect failure, reset, timeout: each would reach the client as a 502 or 504), and only
 * they cover timeouts, which is how Envoy treats a per-try timeout. `reset` alone does not retry timeouts.
 * `httpStatusCodes` count whether or not `retriable-status-codes` is listed.
 */
export function conditionsFor(triggers: readonly RetryTrigger[], httpStatusCodes: readonly number[]): RetryConditions {
  const statuses = new Set<number>();
  let connectFailure = false;
  let refusedStream = false;
  let reset = false;
  let timeout = false;
  for (const trigger of triggers) {
    switch (trigger) {
      case '5xx':
        for (let s = 500; s <= 599; s++) statuses.add(s);
        connectFailure = refusedStream = reset = timeout = true;
        break;
      case 'gateway-error':
        for (const s of GATEWAY_ERRORS) statuses.add(s);
        connectFailure = refusedStream = reset = timeout = true;
        break;
      case 'connect-failure':
        connectFailure = true;
        break;
      case 'refused-stream':
        refusedStream = true;
        break;
      case 'reset':
        reset = refusedStream = true;
        break;
      case 'retriable-status-codes':
        break;
    }
  }
  // Listing codes implies `retriable-status-codes` (as Kuma does): configured codes are never silently ignored.
  for (const s of httpStatusCodes) statuses.add(s);
  return { statuses, connectFailure, refusedStream, reset, timeout };
}
