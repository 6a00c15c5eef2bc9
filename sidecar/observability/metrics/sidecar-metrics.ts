import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { RejectReason } from '../../listeners/http-server.ts';
import type { RequestObserver } from '../../listeners/request-entry.ts';
import { SOURCE_HEADER } from '../../listeners/outbound.ts';
import type { Outcome, RequestContext } from '../../pipeline/context.ts';
import { STATE_METRIC_NAMES, type MetricsNaming } from './names.ts';
import { RequestMetrics, SourceNames } from './request-metrics.ts';
import { registerStateMetrics, type MetricsSource } from './state-metrics.ts';

export interface SidecarMetricsOptions {
  /** The config store: the Mesh's `metrics.naming`, and the state read at scrape time. */
  source: MetricsSource;
  /** This sidecar's Service and namespace: `source_workload` of outbound requests. */
  service: string;
  namespace: string;
  /** Adds prom-client's process metrics (CPU, memory, event-loop lag, GC). Default true. */
  processMetrics?: boolean;
  /** The tracer's export counters, so spans lost to a slow or dead collector show up. */
  tracing?: { stats(): { exported: number; failed: number; dropped: number; queued: number } };
}

/**
 * The sidecar's Prometheus metrics, on a registry of its own (never prom-client's global one, so two sidecars in
 * one process, as in tests, do not mix). Request metrics are recorded when a request finishes; everything else is
 * read from the runtime at scrape time.
 */
export class SidecarMetrics {
  readonly registry = new Registry();
  private readonly source: MetricsSource;
  private readonly localSource: string;
  private readonly sources = new SourceNames();
  private readonly byNaming = new Map<MetricsNaming, RequestMetrics>();
  /** Plain numbers on the hot path; the gauge reads them at scrape time. */
  private inFlightOutbound = 0;
  private inFlightInbound = 0;
  private readonly rejected: Counter<'listener' | 'reason'>;

  constructor(options: SidecarMetricsOptions) {
    this.source = options.source;
    this.localSource = `${options.service}.${options.namespace}`;
    const tracing = options.tracing;
    if (tracing) {
      new Counter({
        name: 'outrigger_tracing_spans_total',
        help: 'Spans by what became of them: exported, failed (collector down or refusing) or dropped (queue full).',
        labelNames: ['outcome'],
        registers: [this.registry],
        collect(this: Counter<string>) {
          this.reset();
          const stats = tracing.stats();
          for (const outcome of ['exported', 'failed', 'dropped'] as const) this.inc({ outcome }, stats[outcome]);
        },
      });
    }
    const inFlight = (): [number, number] => [this.inFlightOutbound, this.inFlightInbound];
    new Gauge({
      name: STATE_METRIC_NAMES.inFlight,
      help: 'Requests in flight through the sidecar, by direction.',
      labelNames: ['direction'],
      registers: [this.registry],
      collect(this: Gauge<string>) {
        const [outbound, inbound] = inFlight();
        this.set({ direction: 'outbound' }, outbound);
        this.set({ direction: 'inbound' }, inbound);
      },
    });
    this.rejected = new Counter({
      name: STATE_METRIC_NAMES.downstreamRejected,
      help: 'Requests a listener refused before proxying them (malformed, oversized, too slow, bad Host or target, CONNECT, shed while overloaded), by listener and reason.',
      labelNames: ['listener', 'reason'],
      registers: [this.registry],
    });
    registerStateMetrics(this.registry, options.source);
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.requestMetrics(this.naming());
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition format, for `GET /metrics`. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** A request the listener refused before it entered a chain; `reason` is one of a fixed set (see `RejectReason`). */
  onRejected(listener: 'inbound' | 'outbound', reason: RejectReason): void {
    this.rejected.inc({ listener, reason });
  }

  onStart(ctx: RequestContext): void {
    if (ctx.direction === 'outbound') this.inFlightOutbound++;
    else this.inFlightInbound++;
  }

  observe(ctx: RequestContext, outcome: Outcome): void {
    if (ctx.direction === 'outbound') this.inFlightOutbound--;
    else this.inFlightInbound--;
    const source = ctx.direction === 'outbound' ? this.localSource : this.sources.resolve(ctx.req.headers[SOURCE_HEADER]);
    this.requestMetrics(this.naming()).observe(ctx, outcome, source);
  }

  /** An observer for the listeners that records metrics and then calls `next` (e.g. the access log). */
  observer(next?: RequestObserver): RequestObserver {
    const observe: RequestObserver = next
      ? (ctx, outcome) => {
          this.observe(ctx, outcome);
          next(ctx, outcome);
        }
      : (ctx, outcome) => this.observe(ctx, outcome);
    observe.onStart = next?.onStart
      ? (ctx) => {
          this.onStart(ctx);
          next.onStart?.(ctx);
        }
      : (ctx) => this.onStart(ctx);
    return observe;
  }

  /** The naming of the active config; a reload that changes it starts the other family (the old one stops growing). */
  private naming(): MetricsNaming {
    return this.source.loaded ? this.source.current.mesh.metrics.naming : 'Istio';
  }

  private requestMetrics(naming: MetricsNaming): RequestMetrics {
    let metrics = this.byNaming.get(naming);
    if (!metrics) {
      metrics = new RequestMetrics(this.registry, naming);
      this.byNaming.set(naming, metrics);
    }
    return metrics;
  }
}
