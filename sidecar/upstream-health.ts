import type { CircuitState, UpstreamHealth } from '../mesh/signals-report.ts';
import type { ConfigStore } from './runtime/config-store.ts';
import type { ServiceRuntime } from './runtime/service.ts';

/** What the health of a Service is read from: the same breaker and outlier detector `/clusters` shows. */
export type HealthSource = Pick<ServiceRuntime, 'key' | 'endpoints' | 'breaker' | 'detector'>;

/** The error-rate breaker's state (`/clusters` → `circuitBreaker.errorRate.state`), `off` without a breaker. */
export function circuitState(service: HealthSource): CircuitState {
  return service.breaker?.state().state ?? 'off';
}

/** Addresses of the endpoints outlier detection holds ejected now (`/clusters` → `endpoints[].outlier.ejected`). */
export function ejectedAddresses(service: HealthSource): string[] {
  const detector = service.detector;
  if (!detector) return [];
  return service.endpoints.filter((endpoint) => detector.state(endpoint)?.ejected === true).map((endpoint) => endpoint.address);
}

/** The upstream Services with something to say (an ejected endpoint, a circuit open or half-open), by Service key. */
export function upstreamHealth(services: Iterable<HealthSource>): UpstreamHealth[] {
  const health: UpstreamHealth[] = [];
  for (const service of services) {
    const circuit = circuitState(service);
    const ejected = ejectedAddresses(service);
    if (ejected.length > 0 || circuit === 'open' || circuit === 'half-open') health.push({ service: service.key, ejected: ejected.sort(), circuit });
  }
  return health.sort((a, b) => a.service.localeCompare(b.service));
}

/** Upstream health of the config the store runs now; none before it has loaded one. */
export function storeUpstreamHealth(store: Pick<ConfigStore, 'loaded' | 'current'>): UpstreamHealth[] {
  return store.loaded ? upstreamHealth(store.current.services.values()) : [];
}
