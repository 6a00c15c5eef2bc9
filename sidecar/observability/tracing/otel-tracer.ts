import { hostname } from 'node:os';
import { SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, envDetector, detectResources, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { MeshTracing } from '../../../policy/schema/mesh.ts';
import type { Endpoint } from '../../endpoints/endpoint.ts';
import { REASONS, type ReasonFlag } from '../../http/reason.ts';
import type { Logger } from '../../log.ts';
import type { Outcome, RequestContext } from '../../pipeline/context.ts';
import type { AttemptTrace, RequestTrace, RequestTracer } from '../request-trace.ts';
import { emptyStats, exportPipeline, type TracingStats } from './export-pipeline.ts';
import { grpcSpanExporter } from './grpc-exporter.ts';
import { headerPropagation, type HeaderPropagation } from './propagation.ts';
import { resolveTracing, type TracingSettings } from './settings.ts';

export interface OtelTracerOptions {
  /** This sidecar's Service and namespace: the spans' `service.name` and `service.namespace`. */
  service: string;
  namespace: string;
  log?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Replaces the OTLP exporter (tests). */
  exporter?: ((settings: TracingSettings) => SpanExporter) | undefined;
  /** How long a replaced provider keeps accepting the spans of requests that began on it before it is shut down. */
  retireAfterMs?: number | undefined;
}

/** One configured provider: swapped whole when the Mesh `tracing` section changes. */
interface Generation {
  readonly key: string;
  readonly provider: BasicTracerProvider;
  readonly tracer: Tracer;
  readonly propagation: HeaderPropagation;
}

/** Flags that say what the sidecar did rather than that something failed. */
const NOT_ERRORS: ReadonlySet<ReasonFlag> = new Set(['DI']);
const FLAG_EVENTS: Partial<Record<ReasonFlag, string>> = { RL: 'rate_limited', CO: 'circuit_open', FI: 'fault_injected', DI: 'delay_injected', URX: 'retry_limit_exceeded', UH: 'no_healthy_upstream' };

/**
 * Request tracing with the OpenTelemetry SDK, without instrumenting anything globally: contexts are passed by
 * hand from headers to spans to headers. Inbound requests get a SERVER span, outbound requests a CLIENT span, and
 * each attempt a CLIENT child, so retries show as separate attempts under one parent. Spans leave through a
 * bounded batch queue to OTLP/HTTP; a dead collector costs dropped spans, never request latency.
 */
export class OtelRequestTracer implements RequestTracer {
  private current: Generation | undefined;
  private readonly retiring = new Set<Generation>();
  private readonly stats_: TracingStats = emptyStats();
  private readonly options: OtelTracerOptions;
  private readonly instanceId = `${hostname()}:${process.pid}`;
  private lastExportWarning = 0;

  constructor(options: OtelTracerOptions) {
    this.options = options;
  }

  get enabled(): boolean {
    return this.current !== undefined;
  }

  /** Applies a Mesh `tracing` section. Cheap when nothing changed; otherwise the old provider is flushed and shut down in the background. */
  configure(mesh: MeshTracing): void {
    const { settings, warnings } = resolveTracing(mesh, this.options.service, this.options.env ?? process.env);
    const key = settings ? JSON.stringify(settings) : '';
    if (key === (this.current?.key ?? '')) return;
    for (const warning of warnings) this.options.log?.warn(warning);
    const old = this.current;
    this.current = settings ? this.build(settings, key) : undefined;
    if (settings) this.options.log?.info('tracing on', { endpoint: settings.endpoint, sampling: `${settings.ratio * 100}%`, propagation: settings.propagation.join(',') });
    else if (old) this.options.log?.info('tracing off');
    if (old) this.retire(old);
  }

  begin(ctx: RequestContext): RequestTrace | undefined {
    const generation = this.current;
    if (!generation) return undefined;
    const parent = generation.propagation.extract(ctx.upstreamHeaders);
    const socket = ctx.req.socket;
    const attributes: Attributes = {
      'http.request.method': ctx.method,
      'url.path': ctx.path,
      'outrigger.direction': ctx.direction,
      'outrigger.destination': ctx.destination,
      'outrigger.request_id': ctx.requestId,
    };
    if (socket.remoteAddress !== undefined) attributes['network.peer.address'] = socket.remoteAddress;
    if (socket.remotePort !== undefined) attributes['network.peer.port'] = socket.remotePort;
    if (ctx.routeName !== '') attributes['http.route'] = ctx.routeName;
    const span = generation.tracer.startSpan(
      `${ctx.method} ${ctx.destination}`,
      { kind: ctx.direction === 'inbound' ? SpanKind.SERVER : SpanKind.CLIENT, attributes, startTime: ctx.startedAt },
      parent,
    );
    if (!span.isRecording()) {
      // Not sampled: nothing to record, but the decision travels on (flags 00), as Envoy does, so the next hops'
      // parent-based samplers agree instead of starting traces of their own.
      generation.propagation.inject(trace.setSpan(parent, span), ctx.upstreamHeaders);
      return undefined;
    }
    return new OtelRequestTrace(generation, span, trace.setSpan(parent, span));
  }

  /** Export counters since start (all generations together). */
  stats(): TracingStats {
    return { ...this.stats_ };
  }

  /** Flushes and stops every provider, waiting at most `timeoutMs`. */
  async shutdown(timeoutMs = 2_000): Promise<void> {
    const all = [...this.retiring, ...(this.current ? [this.current] : [])];
    this.current = undefined;
    this.retiring.clear();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.allSettled(all.map((g) => g.provider.shutdown())), timeout]);
    clearTimeout(timer);
  }

  private build(settings: TracingSettings, key: string): Generation {
    const exporter =
      this.options.exporter?.(settings) ??
      (settings.protocol === 'grpc'
        ? grpcSpanExporter(settings)
        : new OTLPTraceExporter({ url: settings.endpoint, headers: settings.headers, timeoutMillis: settings.exportTimeoutMs, concurrencyLimit: 4 }));
    const processor = exportPipeline(exporter, this.stats_, { ...settings, onExportError: (error) => this.warnExport(error) });
    const resource = defaultResource()
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(
        resourceFromAttributes({
          'service.name': settings.serviceName,
          'service.namespace': this.options.namespace,
          'service.instance.id': this.instanceId,
          'outrigger.component': 'sidecar',
        }),
      );
    const provider = new BasicTracerProvider({
      resource,
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.ratio) }),
      spanProcessors: [processor],
      spanLimits: { attributeCountLimit: 64, eventCountLimit: 64, attributeValueLengthLimit: 1_024 },
    });
    return { key, provider, tracer: provider.getTracer('outrigger-sidecar'), propagation: headerPropagation(settings.propagation) };
  }

  private retire(generation: Generation): void {
    this.retiring.add(generation);
    const timer = setTimeout(() => {
      if (!this.retiring.delete(generation)) return;
      generation.provider.shutdown().catch((error: unknown) => this.options.log?.debug('tracing provider shutdown failed', { error: String(error) }));
    }, this.options.retireAfterMs ?? 5_000);
    timer.unref();
  }

  private warnExport(error: Error | undefined): void {
    const now = Date.now();
    if (now - this.lastExportWarning < 30_000) return;
    this.lastExportWarning = now;
    this.options.log?.warn('span export failed; spans are dropped until the collector answers', { error: error?.message ?? 'unknown', ...this.stats() });
  }
}

class OtelRequestTrace implements RequestTrace {
  private readonly generation: Generation;
  private readonly span: Span;
  private readonly context: Context;
  private ended = false;
  // Times are performance.now() values (the SDK adds the time origin), so a span's start and end use one monotonic clock.

  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  constructor(generation: Generation, span: Span, context: Context) {
    this.generation = generation;
    this.span = span;
    this.context = context;
  }

  attemptStart(ctx: RequestContext, endpoint: Endpoint | undefined): AttemptTrace {
    const attributes: Attributes = {
      'http.request.method': ctx.method,
      'url.path': ctx.upstreamPath.split('?', 1)[0] ?? ctx.upstreamPath,
      'outrigger.attempt': ctx.attempts + 1,
    };
    if (endpoint) {
      attributes['server.address'] = endpoint.host;
      attributes['server.port'] = endpoint.port;
    }
    const span = this.generation.tracer.startSpan(`${ctx.method} ${ctx.destination} attempt`, { kind: SpanKind.CLIENT, attributes, startTime: performance.now() }, this.context);
    this.generation.propagation.inject(trace.setSpan(this.context, span), ctx.upstreamHeaders);
    let ended = false;
    return {
      end(outcome: Outcome) {
        if (ended) return;
        ended = true;
        settle(span, outcome.status, outcome.flag, outcome.detail);
        span.end(performance.now());
      },
    };
  }

  event(name: string, attributes?: Record<string, string | number | boolean>): void {
    if (!this.ended) this.span.addEvent(name, attributes);
  }

  end(ctx: RequestContext, outcome: Outcome): void {
    if (this.ended) return;
    this.ended = true;
    const span = this.span;
    const flag = outcome.flag ?? ctx.flag;
    if (ctx.routeName !== '') span.setAttribute('http.route', ctx.routeName);
    span.setAttribute('outrigger.attempts', ctx.attempts);
    const eventName = flag && FLAG_EVENTS[flag];
    if (eventName) span.addEvent(eventName, { 'outrigger.reason': flag });
    settle(span, outcome.status, flag, outcome.detail);
    span.end(performance.now());
  }
}

function settle(span: Span, status: number, flag: ReasonFlag | undefined, detail: string | undefined): void {
  if (status > 0) span.setAttribute('http.response.status_code', status);
  if (flag) span.setAttribute('outrigger.reason', flag);
  const failedFlag = flag !== undefined && !NOT_ERRORS.has(flag);
  if (failedFlag || status >= 500) {
    if (failedFlag) span.setAttribute('error.type', flag);
    else span.setAttribute('error.type', String(status));
    span.setStatus({ code: SpanStatusCode.ERROR, message: failedFlag ? (detail ?? REASONS[flag].text) : `HTTP ${status}` });
  }
}
