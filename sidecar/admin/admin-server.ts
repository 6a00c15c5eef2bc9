import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Endpoint } from '../endpoints/endpoint.ts';
import type { RecentRequests } from '../observability/recent-requests.ts';
import type { ConfigStore } from '../runtime/config-store.ts';
import type { ServiceRuntime } from '../runtime/service.ts';
import type { UpstreamPools } from '../upstream/pools.ts';
import { circuitState } from '../upstream-health.ts';
import { redactSecrets } from './redact.ts';

const { createServer } = process.getBuiltinModule('node:http');

export interface AdminState {
  store: ConfigStore;
  pools: UpstreamPools;
  service: string;
  startedAt: Date;
  /** True once every listener is bound and config is loaded, until draining starts. */
  isReady: () => boolean;
  /** Prometheus text exposition for `/metrics` and `/stats/prometheus` (Envoy's path). */
  metrics?: { readonly contentType: string; metrics(): Promise<string> } | undefined;
  /** Starts a drain without exiting (`POST /drain`): readiness off, listeners closed after the pre-drain delay. */
  drain?: (() => void) | undefined;
  isDraining?: (() => boolean) | undefined;
  /** The last requests by id, for `GET /requests/{id}` and `GET /requests` (recent failures). */
  recent?: RecentRequests | undefined;
}

/** The loopback admin API: liveness, readiness, the active config and the upstream view. JSON throughout. */
export function createAdminServer(state: AdminState): Server {
  return createServer((req, res) => {
    try {
      route(state, req, res);
    } catch (error) {
      json(res, 500, { error: String(error) });
    }
  });
}

function route(state: AdminState, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/drain' && req.method === 'POST' && state.drain) {
    state.drain();
    json(res, 202, { draining: true });
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    json(res, 405, { error: 'admin endpoints are read-only (use GET), except POST /drain' });
    return;
  }
  if (path?.startsWith('/requests') && state.recent) {
    const id = decodeURIComponent(path.slice('/requests/'.length));
    if (path === '/requests' || id === '') {
      json(res, 200, { failures: state.recent.failures() });
      return;
    }
    const record = state.recent.get(id);
    if (record) json(res, 200, record);
    else json(res, 404, { error: `no recent request with id ${id} here (this sidecar keeps its last 1000 requests)` });
    return;
  }
  switch (path) {
    case '/live':
      json(res, 200, { live: true });
      return;
    case '/ready': {
      const ready = state.isReady();
      json(res, ready ? 200 : 503, { ready, configLoaded: state.store.loaded, draining: state.isDraining?.() ?? false });
      return;
    }
    case '/config_dump':
      json(res, 200, configDump(state));
      return;
    case '/clusters':
      json(res, 200, clusters(state));
      return;
    case '/metrics':
    case '/stats/prometheus':
      prometheus(state, res);
      return;
    case '/':
      json(res, 200, { service: state.service, endpoints: ENDPOINTS });
      return;
    default:
      json(res, 404, { error: `no admin endpoint ${path}`, endpoints: ENDPOINTS });
  }
}

const ENDPOINTS = ['/live', '/ready', '/config_dump', '/clusters', '/metrics', '/stats/prometheus', '/requests', '/requests/{id}', 'POST /drain'];

function prometheus(state: AdminState, res: ServerResponse): void {
  const metrics = state.metrics;
  if (!metrics) {
    json(res, 404, { error: 'metrics are off' });
    return;
  }
  metrics.metrics().then(
    (text) => {
      res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
      res.end(res.req.method === 'HEAD' ? undefined : text);
    },
    (error: unknown) => json(res, 500, { error: String(error) }),
  );
}

function configDump(state: AdminState): unknown {
  const store = state.store;
  const last = store.lastStatus;
  if (!store.loaded) return { loaded: false, lastReload: last };
  const config = store.current;
  const sourced = [...config.policy.routes, ...config.policy.trafficPolicies, ...config.policy.endpoints, ...(config.policy.mesh ? [config.policy.mesh] : [])];
  return {
    loaded: true,
    version: config.version,
    generation: config.generation,
    source: config.source,
    loadedAt: config.loadedAt.toISOString(),
    files: config.policy.files,
    reloadFailures: store.reloadFailures,
    lastReload: last ? { ok: last.ok, at: last.at.toISOString(), source: last.source, errors: last.errors } : undefined,
    discovery: discoveryView(store),
    mesh: config.mesh,
    resources: redactSecrets(sourced.map((s) => ({ file: s.file, line: s.line, resource: s.resource }))),
  };
}

function discoveryView(store: ConfigStore): unknown {
  const stats = store.discoveryStats;
  if (!stats) return undefined;
  return { ...stats, lastRebuildAt: stats.lastRebuildAt?.toISOString() };
}

function clusters(state: AdminState): unknown {
  if (!state.store.loaded) return { services: [] };
  const config = state.store.current;
  const view = (service: ServiceRuntime): unknown => ({
    service: service.key,
    loadBalancer: service.settings.loadBalancer.type,
    connectTimeoutMs: service.settings.connectTimeoutMs,
    idleTimeoutMs: service.settings.idleTimeoutMs,
    circuitBreaker: { ...service.limiter.state(), state: circuitState(service), errorRate: service.breaker?.state() ?? null },
    outlierDetection: service.detector?.summary() ?? null,
    retryBudget: { retries: service.retryBudget.retries, budgetExhausted: service.retryBudget.budgetExhausted },
    rateLimit: service.rateLimit?.stats() ?? null,
    endpoints: service.endpoints.map((e: Endpoint) => ({
      address: e.address,
      weight: e.weight,
      zone: e.zone,
      origin: e.origin,
      suspect: e.suspect,
      healthy: e.healthy,
      activeRequests: e.active,
      completed: e.completed,
      failed: e.failed,
      latencyEstimateMs: Math.round(e.latencyEstimateMs * 100) / 100,
      connections: state.pools.stats(e.address),
      outlier: service.detector?.state(e) ?? null,
    })),
  });
  return {
    version: config.version,
    inbound: view(config.inbound),
    services: [...config.services.values()].map(view),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}
