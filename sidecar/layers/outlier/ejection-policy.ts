/**
 * The arithmetic of outlier ejection, pure so it can be read and tested on its own. Envoy's rules
 * (`source/common/upstream/outlier_detection_impl.cc`), except where noted.
 */

/**
 * How long the next ejection lasts: `baseEjectionTime × timesEjected`, capped at `max(base, maxEjectionTime)`
 * (Envoy caps at the larger of the two, so a max below the base never shortens the base).
 */
export function ejectionDurationMs(timesEjected: number, baseMs: number, maxMs: number): number {
  return Math.min(baseMs * Math.max(1, timesEjected), Math.max(baseMs, maxMs));
}

/**
 * The highest useful `timesEjected`: past it the duration is capped anyway. Envoy stops growing its backoff there
 * too, so a flapping endpoint that recovers decays back to the base in a bounded number of intervals.
 */
export function timesEjectedCap(baseMs: number, maxMs: number): number {
  if (baseMs <= 0) return 1;
  return Math.max(1, Math.ceil(Math.max(baseMs, maxMs) / baseMs));
}

/**
 * `timesEjected` after decay: Envoy decrements it by one every `interval` the endpoint spends un-ejected. Computed
 * when read rather than on a periodic timer, which gives the same numbers without a timer per Service.
 */
export function decayedTimesEjected(timesEjected: number, returnedAt: number, now: number, intervalMs: number): number {
  if (timesEjected <= 0) return 0;
  if (intervalMs <= 0) return 0;
  return Math.max(0, timesEjected - Math.floor((now - returnedAt) / intervalMs));
}

/**
 * How many endpoints may be ejected at once. Envoy allows an ejection only while
 * `(ejected + 1) / endpoints ≤ maxEjectionPercent`, so its default 10 % ejects nothing below 10 endpoints: with three
 * replicas and one broken, the broken one keeps taking a third of the traffic. Here at least one endpoint may be
 * ejected whenever the percentage is above zero (what Envoy's `always_eject_one_host` opts into); 0 % disables
 * ejection. Separately, the detector never ejects the last healthy endpoint.
 */
export function ejectionBudget(endpointCount: number, maxEjectionPercent: number): number {
  if (maxEjectionPercent <= 0 || endpointCount <= 0) return 0;
  return Math.max(1, Math.ceil((endpointCount * maxEjectionPercent) / 100 - 1e-9));
}
