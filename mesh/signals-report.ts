import { fromSparse, totalCount, toSparse, type LatencyCounts } from './signals-histogram.ts';

/**
 * What a sidecar tells the control plane about its workload's inbound traffic, every couple of seconds, over a
 * gossip stream (`memberlist.request(addr, SIGNALS_REQUEST, body)`). Compact JSON with a sparse latency histogram;
 * at most MAX_REPORT_BYTES, and decoded strictly: any unknown key, wrong type, impossible number or oversized body
 * is refused with a message, never half-read.
 *
 * ```json
 * {"v":1,"service":"checkout.shop","member":"checkout-7f9c","at":1764237600000,"interval":2000,
 *  "windows":{"stable":{"ms":60000,"requests":1200,"errors":3,"concurrency":4.25,"peak":9,"latency":[31,700,32,497,60,3]},
 *             "panic":{"ms":6000,"requests":118,"errors":0,"concurrency":4.1,"peak":7,"latency":[31,70,32,48]}}}
 * ```
 *
 * Per-caller counts (the topology's edges) are optional: the caller names once at the top, `"sources":["frontend.shop"]`,
 * and in each window flat `[requests, errors, …]` pairs in that order, `"sources":[118,2]`.
 *
 * The health of the upstream Services the sidecar calls is optional too, and only what is not healthy by default:
 * `"upstreams":[{"service":"catalog.shop","ejected":["10.0.0.7:8080"],"circuit":"closed"}]`, an entry per Service
 * with an ejected endpoint or a circuit open or half-open, at most MAX_UPSTREAMS of them, MAX_EJECTED addresses each.
 */

export const SIGNALS_REQUEST = 'signals';
export const REPORT_VERSION = 1;
/**
 * Worst case is 5.6 KB without sources (every latency bucket used in both windows, huge counts, longest names), about
 * 12 KB with MAX_SOURCES + 1 sources of the longest names; typical is under 1 KB. Upstreams fill what room is left
 * (the encoder drops the least severe ones that do not fit), about 450 bytes per Service with MAX_EJECTED IPv4 addresses.
 */
export const MAX_REPORT_BYTES = 16 * 1024;

/** Knative's windows: the stable one drives scaling, the panic one catches a burst within seconds. */
export const SIGNAL_WINDOWS = { stable: 60, panic: 6 } as const;
export type WindowName = keyof typeof SIGNAL_WINDOWS;
export const WINDOW_NAMES: readonly WindowName[] = ['stable', 'panic'];

/** One window of one member's inbound traffic. */
export interface WindowSignals {
  /** Time the window covers, ms: its nominal length, or less for a sidecar that started recently. */
  durationMs: number;
  requests: number;
  /** Requests answered 5xx or failed by the proxy (connection, timeout, overflow…). */
  errors: number;
  /** Time-weighted average of requests in flight over the window (Knative's "average concurrency"). */
  concurrency: number;
  /** Most requests in flight at once during the window. */
  peakConcurrency: number;
  /** Latency histogram (see signals-histogram.ts); its total equals `requests`. */
  latency: LatencyCounts;
  /**
   * Of `requests`, those that named their caller (`x-outrigger-source`), by caller Service `name.namespace`; at most
   * MAX_SOURCES of them, the rest summed under OTHER_SOURCE. Absent from reports of sidecars that do not count them.
   */
  sources?: Record<string, SourceCounts>;
}

/** Requests from one caller in one window, and how many of them were errors. */
export interface SourceCounts {
  requests: number;
  errors: number;
}

/** Callers counted by name per report; more are summed under OTHER_SOURCE. */
export const MAX_SOURCES = 32;
/** The key of requests from callers beyond MAX_SOURCES or with an unreadable source header (never a Service key: no dot). */
export const OTHER_SOURCE = 'other';

export type SignalWindows = Record<WindowName, WindowSignals>;

/** The error-rate breaker's state, `off` for a Service without one. */
export type CircuitState = 'open' | 'half-open' | 'closed' | 'off';
export const CIRCUIT_STATES: readonly CircuitState[] = ['open', 'half-open', 'closed', 'off'];

/** One upstream Service as the reporting sidecar sees it, when it has something to say. */
export interface UpstreamHealth {
  /** `name.namespace` of the upstream Service. */
  service: string;
  /** `host:port` of its endpoints the sidecar's outlier detection has ejected now; at most MAX_EJECTED. */
  ejected: string[];
  circuit: CircuitState;
}

/** Upstream Services per report; the encoder keeps the worst ones (open circuits, then most ejected). */
export const MAX_UPSTREAMS = 32;
/** Ejected addresses per upstream Service. */
export const MAX_EJECTED = 16;
const MAX_ADDRESS = 100;
/** `host:port`, `[v6]:port`: no spaces, no control characters, a port at the end. */
const ADDRESS_PATTERN = /^[^\s"\\]+:\d{1,5}$/;

export interface SignalReport {
  /** `name.namespace` of the Service the member's sidecar fronts. */
  service: string;
  /** Gossip member name of the reporter. */
  member: string;
  /** Sender's wall clock, ms since the epoch, when the report was made. */
  at: number;
  /** How often the sender reports; the collector drops a report older than three of these. */
  intervalMs: number;
  windows: SignalWindows;
  /** Upstream Services with ejected endpoints or a circuit not closed; absent from reports of older sidecars. */
  upstreams?: UpstreamHealth[];
}

export class SignalReportError extends Error {
  override name = 'SignalReportError';
}

export const SERVICE_KEY_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const MAX_MEMBER_NAME = 255;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 60_000;
/** Far above any real concurrency; a bound so nonsense cannot skew a sum. */
const MAX_CONCURRENCY = 1e9;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeSignalReport(report: SignalReport): Uint8Array {
  const windows: Record<string, unknown> = {};
  const sources = [...new Set(WINDOW_NAMES.flatMap((name) => Object.keys(report.windows[name].sources ?? {})))].sort();
  for (const name of WINDOW_NAMES) {
    const w = report.windows[name];
    const wire: Record<string, unknown> = { ms: Math.max(1, Math.round(w.durationMs)), requests: w.requests, errors: w.errors, concurrency: round6(w.concurrency), peak: w.peakConcurrency, latency: toSparse(w.latency) };
    if (sources.length > 0) wire['sources'] = sources.flatMap((source) => [w.sources?.[source]?.requests ?? 0, w.sources?.[source]?.errors ?? 0]);
    windows[name] = wire;
  }
  const wire: Record<string, unknown> = { v: REPORT_VERSION, service: report.service, member: report.member, at: report.at, interval: report.intervalMs, windows, ...(sources.length > 0 ? { sources } : {}) };
  let text = JSON.stringify(wire);
  // `,"upstreams":[` and `]`: the rest of MAX_REPORT_BYTES is the upstreams' room.
  const upstreams = boundUpstreams(report.upstreams ?? [], MAX_REPORT_BYTES - encoder.encode(text).length - 16);
  if (upstreams.length > 0) text = JSON.stringify({ ...wire, upstreams });
  const bytes = encoder.encode(text);
  // Decoding our own output catches a bad field here, at the sender, rather than as a refusal at every collector.
  decodeSignalReport(bytes);
  return bytes;
}

/** Throws SignalReportError with what is wrong; never returns a partly valid report. */
export function decodeSignalReport(bytes: Uint8Array): SignalReport {
  if (bytes.length > MAX_REPORT_BYTES) throw new SignalReportError(`report of ${bytes.length} bytes exceeds ${MAX_REPORT_BYTES}`);
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new SignalReportError('report is not UTF-8 JSON');
  }
  const wire = object(value, 'report', ['v', 'service', 'member', 'at', 'interval', 'windows'], ['sources', 'upstreams']);
  if (wire['v'] !== REPORT_VERSION) throw new SignalReportError(`report version ${String(wire['v'])} is not ${REPORT_VERSION}`);
  const service = wire['service'];
  if (typeof service !== 'string' || service.length > 127 || !SERVICE_KEY_PATTERN.test(service)) throw new SignalReportError('service must be "name.namespace" (RFC 1123 labels)');
  const member = wire['member'];
  if (typeof member !== 'string' || member.length === 0 || member.length > MAX_MEMBER_NAME || CONTROL.test(member)) throw new SignalReportError('member must be a member name');
  const at = integer(wire['at'], 'at', 0, Number.MAX_SAFE_INTEGER);
  const intervalMs = integer(wire['interval'], 'interval', MIN_INTERVAL_MS, MAX_INTERVAL_MS);
  const sources = Object.hasOwn(wire, 'sources') ? sourceNames(wire['sources']) : undefined;
  const rawWindows = object(wire['windows'], 'windows', WINDOW_NAMES);
  const windows = {} as SignalWindows;
  for (const name of WINDOW_NAMES) windows[name] = decodeWindow(rawWindows[name], name, sources);
  if (!Object.hasOwn(wire, 'upstreams')) return { service, member, at, intervalMs, windows };
  return { service, member, at, intervalMs, windows, upstreams: decodeUpstreams(wire['upstreams']) };
}

/** True when the entry says something: an ejected endpoint or a circuit open or half-open. */
export function isNewsworthy(upstream: UpstreamHealth): boolean {
  return upstream.ejected.length > 0 || upstream.circuit === 'open' || upstream.circuit === 'half-open';
}

/**
 * What the encoder sends of the upstreams: newsworthy entries with a valid name, worst first (open, half-open, then
 * most ejected, then by name), at most MAX_UPSTREAMS, MAX_EJECTED sorted addresses each, and no more than fits the
 * report's budget. Entries that do not are dropped, never the report.
 */
function boundUpstreams(upstreams: readonly UpstreamHealth[], budgetBytes: number): UpstreamHealth[] {
  const rank = (u: UpstreamHealth): number => (u.circuit === 'open' ? 0 : u.circuit === 'half-open' ? 1 : 2);
  const seen = new Set<string>();
  const valid = upstreams
    .map((u) => ({ service: u.service, ejected: [...new Set(u.ejected.filter(isAddress))].sort().slice(0, MAX_EJECTED), circuit: u.circuit }))
    .filter((u) => u.service.length <= 127 && SERVICE_KEY_PATTERN.test(u.service) && CIRCUIT_STATES.includes(u.circuit) && isNewsworthy(u))
    .sort((a, b) => rank(a) - rank(b) || b.ejected.length - a.ejected.length || a.service.localeCompare(b.service))
    .filter((u) => !seen.has(u.service) && seen.add(u.service));
  const kept: UpstreamHealth[] = [];
  let bytes = 0;
  for (const u of valid) {
    if (kept.length === MAX_UPSTREAMS) break;
    const size = encoder.encode(JSON.stringify(u)).length + 1;
    if (bytes + size > budgetBytes) break;
    bytes += size;
    kept.push(u);
  }
  return kept;
}

function isAddress(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_ADDRESS && ADDRESS_PATTERN.test(value) && !CONTROL.test(value);
}

function decodeUpstreams(value: unknown): UpstreamHealth[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_UPSTREAMS) throw new SignalReportError(`upstreams must list 1 to ${MAX_UPSTREAMS} Services`);
  const services = new Set<string>();
  return value.map((item, i): UpstreamHealth => {
    const field = `upstreams[${i}]`;
    const entry = object(item, field, ['service', 'ejected', 'circuit']);
    const service = entry['service'];
    if (typeof service !== 'string' || service.length > 127 || !SERVICE_KEY_PATTERN.test(service)) throw new SignalReportError(`${field}.service must be "name.namespace" (RFC 1123 labels)`);
    if (services.has(service)) throw new SignalReportError(`upstreams must not repeat ${service}`);
    services.add(service);
    const ejected = entry['ejected'];
    if (!Array.isArray(ejected) || ejected.length > MAX_EJECTED) throw new SignalReportError(`${field}.ejected must list at most ${MAX_EJECTED} addresses`);
    for (const address of ejected) {
      if (!isAddress(address)) throw new SignalReportError(`${field}.ejected must hold "host:port" addresses`);
    }
    if (new Set(ejected).size !== ejected.length) throw new SignalReportError(`${field}.ejected must not repeat`);
    const circuit = entry['circuit'];
    if (typeof circuit !== 'string' || !CIRCUIT_STATES.includes(circuit as CircuitState)) throw new SignalReportError(`${field}.circuit must be one of ${CIRCUIT_STATES.join(', ')}`);
    const upstream: UpstreamHealth = { service, ejected: ejected as string[], circuit: circuit as CircuitState };
    if (!isNewsworthy(upstream)) throw new SignalReportError(`${field} has nothing to say: no ejected endpoint and the circuit is ${circuit}`);
    return upstream;
  });
}

function sourceNames(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_SOURCES + 1) throw new SignalReportError(`sources must list 1 to ${MAX_SOURCES + 1} callers`);
  let others = 0;
  for (const source of value) {
    if (source === OTHER_SOURCE) others++;
    else if (typeof source !== 'string' || source.length > 127 || !SERVICE_KEY_PATTERN.test(source)) throw new SignalReportError(`sources must be "name.namespace" Services or "${OTHER_SOURCE}"`);
  }
  if (new Set(value).size !== value.length) throw new SignalReportError('sources must not repeat');
  if (value.length - others > MAX_SOURCES) throw new SignalReportError(`sources must name at most ${MAX_SOURCES} Services`);
  return value as string[];
}

function decodeWindow(value: unknown, name: WindowName, sources: readonly string[] | undefined): WindowSignals {
  const w = object(value, `windows.${name}`, ['ms', 'requests', 'errors', 'concurrency', 'peak', 'latency', ...(sources ? ['sources'] : [])]);
  const field = `windows.${name}`;
  const durationMs = number(w['ms'], `${field}.ms`, 0, SIGNAL_WINDOWS[name] * 1000);
  if (durationMs === 0) throw new SignalReportError(`${field}.ms must be above 0`);
  const requests = integer(w['requests'], `${field}.requests`, 0, Number.MAX_SAFE_INTEGER);
  const errors = integer(w['errors'], `${field}.errors`, 0, requests);
  const peakConcurrency = integer(w['peak'], `${field}.peak`, 0, MAX_CONCURRENCY);
  // An average never exceeds the maximum it averages; the slack absorbs the 6-digit rounding on the wire.
  const concurrency = number(w['concurrency'], `${field}.concurrency`, 0, peakConcurrency + 1e-6);
  let latency: LatencyCounts;
  try {
    latency = fromSparse(w['latency']);
  } catch (error) {
    throw new SignalReportError(`${field}.${(error as Error).message}`);
  }
  const observed = totalCount(latency);
  if (observed !== requests) throw new SignalReportError(`${field}.latency counts ${observed} requests, not ${requests}`);
  if (!sources) return { durationMs, requests, errors, concurrency, peakConcurrency, latency };
  const pairs = w['sources'];
  if (!Array.isArray(pairs) || pairs.length !== 2 * sources.length) throw new SignalReportError(`${field}.sources must hold a [requests, errors] pair per source`);
  const counts: Record<string, SourceCounts> = {};
  let attributed = 0;
  for (const [i, source] of sources.entries()) {
    const sourceRequests = integer(pairs[2 * i], `${field}.sources[${2 * i}]`, 0, requests);
    const sourceErrors = integer(pairs[2 * i + 1], `${field}.sources[${2 * i + 1}]`, 0, sourceRequests);
    attributed += sourceRequests;
    counts[source] = { requests: sourceRequests, errors: sourceErrors };
  }
  if (attributed > requests) throw new SignalReportError(`${field}.sources count ${attributed} requests, more than ${requests}`);
  return { durationMs, requests, errors, concurrency, peakConcurrency, latency, sources: counts };
}

function object(value: unknown, field: string, keys: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SignalReportError(`${field} must be an object`);
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!keys.includes(key) && !optional.includes(key)) throw new SignalReportError(`${field} has an unknown field "${key.slice(0, 40)}"`);
  for (const key of keys) if (!Object.hasOwn(record, key)) throw new SignalReportError(`${field} lacks "${key}"`);
  return record;
}

function number(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) throw new SignalReportError(`${field} must be a number from ${min} to ${max}`);
  return value;
}

function integer(value: unknown, field: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) throw new SignalReportError(`${field} must be an integer from ${min} to ${max}`);
  return value as number;
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
