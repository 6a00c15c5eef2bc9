import { latencyPercentile, mergeLatency, newLatencyCounts, type LatencyCounts } from './signals-histogram.ts';
import { SIGNAL_WINDOWS, type CircuitState, type SignalReport, type WindowName } from './signals-report.ts';

/** One Service's signals over one window, summed over the members reporting for it. */
export interface ServiceSignals {
  service: string;
  window: WindowName;
  /** Nominal length of the window: 60 (stable) or 6 (panic). */
  windowSeconds: number;
  /** Members with a fresh report: the replicas serving the Service as the mesh sees them. */
  replicas: number;
  requests: number;
  errors: number;
  /** Σ over members of requests ÷ the time their window covers (so a replica that just started is not diluted). */
  requestsPerSecond: number;
  /** Σ of members' average concurrency. */
  concurrency: number;
  /** Σ of members' peaks: an upper bound on the Service's peak, as peaks need not coincide. */
  peakConcurrency: number;
  /** errors ÷ requests, 0 without requests. */
  errorRate: number;
  /** Percentiles of the merged histogram; 0 without requests. */
  latencyP50Ms: number;
  latencyP90Ms: number;
  latencyP95Ms: number;
  latencyP99Ms: number;
  latency: LatencyCounts;
}

/**
 * Sums the reports of one Service. Rates are per member (its requests over the time its window covers) then summed,
 * which is Σ requests ÷ window once every member has been up for the whole window. Latency percentiles come from
 * the merged counts, never from averaging members' percentiles.
 */
export function aggregateSignals(service: string, window: WindowName, reports: readonly SignalReport[]): ServiceSignals {
  const latency = newLatencyCounts();
  let requests = 0;
  let errors = 0;
  let requestsPerSecond = 0;
  let concurrency = 0;
  let peakConcurrency = 0;
  for (const report of reports) {
    const w = report.windows[window];
    requests += w.requests;
    errors += w.errors;
    requestsPerSecond += w.requests / (w.durationMs / 1000);
    concurrency += w.concurrency;
    peakConcurrency += w.peakConcurrency;
    mergeLatency(latency, w.latency);
  }
  return {
    service,
    window,
    windowSeconds: SIGNAL_WINDOWS[window],
    replicas: reports.length,
    requests,
    errors,
    requestsPerSecond,
    concurrency,
    peakConcurrency,
    errorRate: requests === 0 ? 0 : errors / requests,
    latencyP50Ms: latencyPercentile(latency, 50) ?? 0,
    latencyP90Ms: latencyPercentile(latency, 90) ?? 0,
    latencyP95Ms: latencyPercentile(latency, 95) ?? 0,
    latencyP99Ms: latencyPercentile(latency, 99) ?? 0,
    latency,
  };
}

/** Calls from one Service to another over one window, as the callee's sidecars counted them. */
export interface ServiceEdge {
  /** Caller `name.namespace`, or OTHER_SOURCE for callers beyond what a report names. */
  from: string;
  /** Callee `name.namespace`: the Service of the reporting sidecars. */
  to: string;
  window: WindowName;
  requests: number;
  errors: number;
  /** Σ over the callee's members of requests ÷ the time their window covers, as for ServiceSignals. */
  rps: number;
  /** errors ÷ requests, 0 without requests. */
  errorRate: number;
}

/** Every caller → callee pair with requests in the window, from the reports' per-source counts; sorted by from, to. */
export function aggregateEdges(window: WindowName, reports: readonly SignalReport[]): ServiceEdge[] {
  const edges = new Map<string, ServiceEdge>();
  for (const report of reports) {
    const w = report.windows[window];
    for (const [from, counts] of Object.entries(w.sources ?? {})) {
      if (counts.requests === 0) continue;
      const key = `${from}\n${report.service}`;
      let edge = edges.get(key);
      if (!edge) edges.set(key, (edge = { from, to: report.service, window, requests: 0, errors: 0, rps: 0, errorRate: 0 }));
      edge.requests += counts.requests;
      edge.errors += counts.errors;
      edge.rps += counts.requests / (w.durationMs / 1000);
    }
  }
  return [...edges.values()]
    .map((edge) => ({ ...edge, errorRate: edge.errors / edge.requests }))
    .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
}

/** One upstream Service's health as its callers' sidecars see it: what they ejected and their circuits' states. */
export interface UpstreamServiceHealth {
  /** `name.namespace` of the upstream (called) Service. */
  service: string;
  /** Every address some caller has ejected, sorted, with the members that ejected it (sorted). */
  ejected: Array<{ address: string; members: string[] }>;
  /** Member → its circuit for the Service, for members that said something about the Service. */
  circuits: Record<string, CircuitState>;
}

/** Unions the upstream health of every report, per upstream Service; sorted by Service. */
export function aggregateUpstreamHealth(reports: readonly SignalReport[]): UpstreamServiceHealth[] {
  const byService = new Map<string, { ejected: Map<string, Set<string>>; circuits: Map<string, CircuitState> }>();
  for (const report of reports) {
    for (const upstream of report.upstreams ?? []) {
      let entry = byService.get(upstream.service);
      if (!entry) byService.set(upstream.service, (entry = { ejected: new Map(), circuits: new Map() }));
      entry.circuits.set(report.member, upstream.circuit);
      for (const address of upstream.ejected) {
        let members = entry.ejected.get(address);
        if (!members) entry.ejected.set(address, (members = new Set()));
        members.add(report.member);
      }
    }
  }
  return [...byService.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, entry]) => ({
      service,
      ejected: [...entry.ejected.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([address, members]) => ({ address, members: [...members].sort() })),
      circuits: Object.fromEntries([...entry.circuits.entries()].sort(([a], [b]) => a.localeCompare(b))),
    }));
}
