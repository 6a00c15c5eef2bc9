import type { MemberStatusRow } from '../../mesh/member-status.ts';
import type { ServiceEdge, ServiceSignals, UpstreamServiceHealth } from '../../mesh/signals-aggregate.ts';
import { WINDOW_NAMES, type CircuitState, type WindowName } from '../../mesh/signals-report.ts';

/** One Service's golden signals over one window, as the page shows them. */
export interface DashboardSignals {
  windowSeconds: number;
  replicas: number;
  requests: number;
  rps: number;
  /** 1 − error rate; null without requests (nothing to be successful at). */
  successRate: number | null;
  errorRate: number;
  concurrency: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export interface DashboardService {
  service: string;
  /** Sidecars advertising the Service in gossip, by gossip state. */
  sidecars: { alive: number; total: number };
  /** null when no sidecar of the Service reports signals. */
  windows: Record<WindowName, DashboardSignals | null>;
  /** Endpoints of this Service its callers' sidecars have ejected now, by address, with who ejected them. */
  ejectedEndpoints: Array<{ address: string; members: string[] }>;
  /** Member → state of its circuit breaker for this Service, for callers that reported one not closed or an ejection. */
  circuits: Record<string, CircuitState>;
}

export interface DashboardEdge {
  from: string;
  to: string;
  requests: number;
  rps: number;
  errorRate: number;
}

export interface DashboardMember {
  name: string;
  role: MemberStatusRow['role'];
  status: string;
  service: string | null;
  address: string | null;
  zone: string | null;
  configVersion: number;
  configHash: string;
  sync: MemberStatusRow['sync'];
  error: string | null;
}

export interface DashboardState {
  reporter: string;
  generatedAt: number;
  config: { version: number; hash: string; policyError: string | null };
  summary: { members: number; alive: number; synced: number; stale: number; rejected: number; services: number; edges: number };
  members: DashboardMember[];
  services: DashboardService[];
  edges: Record<WindowName, DashboardEdge[]>;
}

/** What the state is built from: the gossip view, the collector's aggregates, the replica's own news. */
export interface DashboardInput {
  reporter: string;
  now: number;
  members: readonly MemberStatusRow[];
  policyError: string | undefined;
  /** Every Service with fresh reports, both windows. */
  signals: ReadonlyArray<Record<WindowName, ServiceSignals | undefined>>;
  edges: Record<WindowName, readonly ServiceEdge[]>;
  /** Ejections and circuits per upstream Service, from the reports that carry them; none when absent. */
  health?: readonly UpstreamServiceHealth[] | undefined;
}

/** Everything the dashboard shows, as one JSON-ready object. Pure: same input, same state. */
export function buildDashboardState(input: DashboardInput): DashboardState {
  let newest = { version: 0, hash: '' };
  for (const row of input.members) {
    if (row.status === 'alive' && (row.configVersion > newest.version || (row.configVersion === newest.version && row.configHash > newest.hash))) {
      newest = { version: row.configVersion, hash: row.configHash };
    }
  }
  const members = input.members.map(
    (row): DashboardMember => ({
      name: row.name,
      role: row.role,
      status: row.status,
      service: row.service ?? null,
      address: row.address ?? null,
      zone: row.zone ?? null,
      configVersion: row.configVersion,
      configHash: row.configHash.slice(0, 12),
      sync: row.sync,
      error: row.error ?? null,
    }),
  );

  const byService = new Map<string, DashboardService>();
  const service = (key: string): DashboardService => {
    let entry = byService.get(key);
    if (!entry) byService.set(key, (entry = { service: key, sidecars: { alive: 0, total: 0 }, windows: { stable: null, panic: null }, ejectedEndpoints: [], circuits: {} }));
    return entry;
  };
  for (const row of input.members) {
    if (row.role !== 'sidecar' || !row.service) continue;
    const entry = service(row.service);
    entry.sidecars.total++;
    if (row.status === 'alive' || row.status === 'suspect') entry.sidecars.alive++;
  }
  for (const windows of input.signals) {
    for (const window of WINDOW_NAMES) {
      const signals = windows[window];
      if (signals) service(signals.service).windows[window] = goldenSignals(signals);
    }
  }
  const edges = {} as Record<WindowName, DashboardEdge[]>;
  for (const window of WINDOW_NAMES) {
    edges[window] = input.edges[window].map((e) => ({ from: e.from, to: e.to, requests: e.requests, rps: e.rps, errorRate: e.errorRate }));
    for (const edge of edges[window]) service(edge.to);
  }
  for (const health of input.health ?? []) {
    const entry = service(health.service);
    entry.ejectedEndpoints = health.ejected.map((e) => ({ address: e.address, members: [...e.members] }));
    entry.circuits = { ...health.circuits };
  }
  const count = (predicate: (m: MemberStatusRow) => boolean): number => input.members.filter(predicate).length;
  const services = [...byService.values()].sort((a, b) => a.service.localeCompare(b.service));
  return {
    reporter: input.reporter,
    generatedAt: input.now,
    config: { version: newest.version, hash: newest.hash.slice(0, 12), policyError: input.policyError ?? null },
    summary: {
      members: input.members.length,
      alive: count((m) => m.status === 'alive'),
      synced: count((m) => m.sync === 'synced'),
      stale: count((m) => m.sync === 'stale'),
      rejected: count((m) => m.sync === 'rejected'),
      services: services.length,
      edges: edges.stable.length,
    },
    members,
    services,
    edges,
  };
}

function goldenSignals(s: ServiceSignals): DashboardSignals {
  return {
    windowSeconds: s.windowSeconds,
    replicas: s.replicas,
    requests: s.requests,
    rps: s.requestsPerSecond,
    successRate: s.requests === 0 ? null : 1 - s.errorRate,
    errorRate: s.errorRate,
    concurrency: s.concurrency,
    p50Ms: s.latencyP50Ms,
    p95Ms: s.latencyP95Ms,
    p99Ms: s.latencyP99Ms,
  };
}
