import type { Metric, Registry } from 'prom-client';
import type { Outcome, RequestContext } from '../../pipeline/context.ts';
import { ISTIO_BUCKETS, REQUEST_LABELS, REQUEST_METRIC_NAMES, type MetricsNaming } from './names.ts';

/** Observations of one histogram series: per-bucket (not cumulative) counts, the last one for +Inf. */
class HistogramData {
  readonly counts = new Float64Array(ISTIO_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  observe(value: number): void {
    let i = 0;
    while (i < ISTIO_BUCKETS.length && value > ISTIO_BUCKETS[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count++;
  }
}

/** The four request series of one label set: one object, found with one Map lookup per request. */
interface Series {
  readonly labels: Record<string, string>;
  requests: number;
  readonly duration: HistogramData;
  readonly requestBytes: HistogramData;
  readonly responseBytes: HistogramData;
}

/** Past this many label sets, new ones are counted in one series whose labels say `overflow` (a bug elsewhere if it happens). */
const MAX_SERIES = 10_000;

type ExposedValue = { labels: Record<string, string>; value: number; metricName?: string };

/**
 * `*_requests_total`, `*_request_duration_milliseconds`, `*_request_bytes` and `*_response_bytes` for one naming.
 *
 * prom-client's own Counter and Histogram validate and hash the label object on every `inc`/`observe`, even on a
 * child from `labels()`: about 5 µs for these four per request, measured. Here a request costs one string key and
 * one Map lookup, then plain additions; prom-client's Registry still renders the exposition, through four small
 * metric objects that read these series at scrape time.
 *
 * Every label value comes from config (Services, routes), from a bounded set (flags, status codes), or from the
 * caller through `SourceNames`, which caps what it accepts, so cardinality stays bounded whatever clients send.
 */
export class RequestMetrics {
  private readonly series = new Map<string, Series>();
  private readonly labelNames: readonly string[];
  private readonly outbound: string;
  private readonly inbound: string;

  constructor(registry: Registry, naming: MetricsNaming) {
    const names = REQUEST_METRIC_NAMES[naming];
    this.labelNames = [names.directionLabel, ...REQUEST_LABELS];
    this.outbound = naming === 'Istio' ? 'source' : 'outbound';
    this.inbound = naming === 'Istio' ? 'destination' : 'inbound';
    this.expose(registry, names.requests, 'counter', 'Requests the sidecar finished, by reporter, source, destination, route, status and reason flag.', (s) => [{ labels: s.labels, value: s.requests }]);
    this.exposeHistogram(registry, names.duration, 'Time from request arrival to the end of the response, in milliseconds.', (s) => s.duration);
    this.exposeHistogram(registry, names.requestBytes, 'Request body size in bytes (from Content-Length; chunked bodies are not observed).', (s) => s.requestBytes);
    this.exposeHistogram(registry, names.responseBytes, 'Response body bytes sent to the client.', (s) => s.responseBytes);
  }

  /** Records one finished request. `source` is `name.namespace` of the calling Service, or 'unknown'. */
  observe(ctx: RequestContext, outcome: Outcome, source: string): void {
    const status = outcome.status;
    const flag = ctx.flag ?? '-';
    const destination = ctx.destination || 'unknown';
    const key = `${ctx.direction}\u0000${source}\u0000${destination}\u0000${ctx.routeName}\u0000${status}\u0000${flag}`;
    let series = this.series.get(key);
    if (!series) {
      series = this.create(key, ctx.direction === 'outbound' ? this.outbound : this.inbound, source, destination, ctx.routeName, String(status), flag);
    }
    series.requests++;
    series.duration.observe(performance.now() - ctx.startedAt);
    const length = ctx.req.headers['content-length'];
    if (length !== undefined) {
      const bytes = Number(length);
      if (Number.isFinite(bytes) && bytes >= 0) series.requestBytes.observe(bytes);
    } else if (!ctx.hasBody) {
      series.requestBytes.observe(0);
    }
    series.responseBytes.observe(ctx.bytesSent);
  }

  private create(key: string, direction: string, source: string, destination: string, route: string, code: string, flag: string): Series {
    if (this.series.size >= MAX_SERIES) {
      key = 'overflow';
      const existing = this.series.get(key);
      if (existing) return existing;
      direction = source = destination = route = code = flag = 'overflow';
    }
    const [sourceName, sourceNamespace] = splitKey(source);
    const [destinationName, destinationNamespace] = splitKey(destination);
    const values = [direction, sourceName, sourceNamespace, destination, destinationName, destinationNamespace, code, flag, route];
    const labels: Record<string, string> = {};
    this.labelNames.forEach((name, i) => (labels[name] = values[i]!));
    const series: Series = { labels, requests: 0, duration: new HistogramData(), requestBytes: new HistogramData(), responseBytes: new HistogramData() };
    this.series.set(key, series);
    return series;
  }

  private exposeHistogram(registry: Registry, name: string, help: string, pick: (s: Series) => HistogramData): void {
    this.expose(registry, name, 'histogram', help, (s) => {
      const data = pick(s);
      const out: ExposedValue[] = [];
      let cumulative = 0;
      for (let i = 0; i <= ISTIO_BUCKETS.length; i++) {
        cumulative += data.counts[i]!;
        out.push({ metricName: `${name}_bucket`, labels: { ...s.labels, le: i < ISTIO_BUCKETS.length ? String(ISTIO_BUCKETS[i]) : '+Inf' }, value: cumulative });
      }
      out.push({ metricName: `${name}_sum`, labels: s.labels, value: data.sum }, { metricName: `${name}_count`, labels: s.labels, value: data.count });
      return out;
    });
  }

  /** Registers a read-only view in prom-client's metric shape (name, help, type, get, reset). */
  private expose(registry: Registry, name: string, type: 'counter' | 'histogram', help: string, values: (s: Series) => ExposedValue[]): void {
    const all = this.series;
    const view = {
      name,
      help,
      type,
      aggregator: 'sum' as const,
      collect: undefined,
      get: () => Promise.resolve({ name, help, type, aggregator: 'sum' as const, values: [...all.values()].flatMap(values) }),
      reset: () => all.clear(),
    };
    registry.registerMetric(view as unknown as Metric);
  }
}

function splitKey(key: string): [string, string] {
  const dot = key.indexOf('.');
  return dot === -1 ? [key, 'unknown'] : [key.slice(0, dot), key.slice(dot + 1)];
}

const SERVICE_KEY = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Names of calling Services as inbound requests state them (`x-outrigger-source`). Anyone reaching the inbound port
 * can send that header, so only well-formed `name.namespace` values are taken, and at most `limit` distinct ones;
 * anything else counts as 'unknown' (Istio's word for an unidentified peer).
 */
export class SourceNames {
  private readonly seen = new Set<string>();
  private readonly limit: number;

  constructor(limit = 256) {
    this.limit = limit;
  }

  resolve(header: string | string[] | undefined): string {
    if (typeof header !== 'string') return 'unknown';
    if (this.seen.has(header)) return header;
    if (this.seen.size >= this.limit || header.length > 127 || !SERVICE_KEY.test(header)) return 'unknown';
    this.seen.add(header);
    return header;
  }
}
