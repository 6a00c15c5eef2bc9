import { Counter, Gauge, type Registry } from 'prom-client';
import type { RuntimeConfig } from '../../runtime/compile.ts';
import type { ServiceRuntime } from '../../runtime/service.ts';
import { STATE_METRIC_NAMES as N } from './names.ts';

/** What the state metrics read at scrape time; `ConfigStore` is one. */
export interface MetricsSource {
  readonly loaded: boolean;
  readonly current: RuntimeConfig;
  readonly reloadFailures: number;
}

type Labels = Record<string, string>;
type Sample = readonly [Labels, number];

const BREAKER_STATE = { closed: 0, 'half-open': 1, open: 2 } as const;

/**
 * Metrics read from the resilience state the layers already keep (retry budgets, limiters, breakers, outlier
 * detectors, rate limiters, the config store), in `collect()` at scrape time: nothing on the request path.
 *
 * The counters mirror totals the runtime keeps since it built each object. A reload that changes a Service's
 * retry-budget, breaker or rate-limit settings builds a new one, so its counter starts again from 0: Prometheus'
 * `rate()` and `increase()` read that as a counter reset, which is what it is.
 */
export function registerStateMetrics(registry: Registry, source: MetricsSource): void {
  const services = (): { service: ServiceRuntime; labels: Labels }[] => {
    if (!source.loaded) return [];
    const config = source.current;
    const list = [{ service: config.inbound, labels: { service: config.inbound.key, direction: 'inbound' } }];
    for (const service of config.services.values()) list.push({ service, labels: { service: service.key, direction: 'outbound' } });
    return list;
  };
  const perService = (read: (service: ServiceRuntime) => number | undefined) => (): Sample[] => {
    const out: Sample[] = [];
    for (const { service, labels } of services()) {
      const value = read(service);
      if (value !== undefined) out.push([labels, value]);
    }
    return out;
  };
  const serviceLabels = ['service', 'direction'];

  counter(registry, N.retries, 'Retries granted by the Service retry budget.', serviceLabels, perService((s) => s.retryBudget.retries));
  counter(registry, N.retryBudgetExhausted, 'Retries wanted but refused because the retry budget was spent (flag URX).', serviceLabels, perService((s) => s.retryBudget.budgetExhausted));
  gauge(registry, N.circuitState, 'Error-rate circuit breaker state: 0 closed, 1 half-open, 2 open (0 when none is configured).', serviceLabels, perService((s) => BREAKER_STATE[s.breaker?.state().state ?? 'closed']));
  counter(registry, N.circuitOpens, 'Times the error-rate circuit breaker opened.', serviceLabels, perService((s) => s.breaker?.state().opens));
  counter(registry, N.overflows, 'Requests refused by a concurrency limit (flag UO), by limit: requests, pending, retries.', [...serviceLabels, 'limit'], () => {
    const out: Sample[] = [];
    for (const { service, labels } of services()) {
      const overflows = service.limiter.state().overflows;
      for (const limit of ['requests', 'pending', 'retries'] as const) out.push([{ ...labels, limit }, overflows[limit]]);
    }
    return out;
  });
  gauge(registry, N.endpoints, 'Endpoints of the Service, by health (unhealthy = ejected by outlier detection).', [...serviceLabels, 'health'], () => {
    const out: Sample[] = [];
    for (const { service, labels } of services()) {
      let healthy = 0;
      for (const endpoint of service.endpoints) if (endpoint.healthy) healthy++;
      out.push([{ ...labels, health: 'healthy' }, healthy], [{ ...labels, health: 'unhealthy' }, service.endpoints.length - healthy]);
    }
    return out;
  });
  gauge(registry, N.ejectedEndpoints, 'Endpoints outlier detection holds ejected now.', serviceLabels, perService((s) => s.detector?.summary().ejectedNow ?? 0));
  counter(registry, N.ejections, 'Endpoint ejections by outlier detection.', serviceLabels, perService((s) => s.detector?.summary().ejections ?? 0));
  counter(registry, N.rateLimited, 'Requests refused with 429 by a rate limit (flag RL), including refusals while the global backend was unavailable.', serviceLabels, perService((s) => s.rateLimit?.stats().limited));
  counter(registry, N.rateLimitAllowed, 'Requests a rate limit admitted.', serviceLabels, perService((s) => s.rateLimit?.stats().allowed));
  gauge(registry, N.configInfo, 'The active config version (content hash of the policy files); always 1.', ['version'], () => (source.loaded ? [[{ version: source.current.version }, 1]] : []));
  gauge(registry, N.configGeneration, 'Config generations loaded since the sidecar started.', [], () => (source.loaded ? [[{}, source.current.generation]] : []));
  counter(registry, N.configReloadFailures, 'Config reloads rejected (the last good config kept serving).', [], () => [[{}, source.reloadFailures]]);
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[], read: () => Sample[]): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect(this: Gauge<string>) {
      this.reset();
      for (const [labels, value] of read()) this.set(labels, value);
    },
  });
}

function counter(registry: Registry, name: string, help: string, labelNames: string[], read: () => Sample[]): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect(this: Counter<string>) {
      this.reset();
      for (const [labels, value] of read()) this.inc(labels, value);
    },
  });
}
