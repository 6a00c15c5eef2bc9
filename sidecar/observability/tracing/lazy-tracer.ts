import type { MeshTracing } from '../../../policy/schema/mesh.ts';
import type { Logger } from '../../log.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import type { RequestTrace, RequestTracer } from '../request-trace.ts';
import type { TracingStats } from './export-pipeline.ts';
import type { OtelRequestTracer } from './otel-tracer.ts';
import { resolveTracing } from './settings.ts';

/**
 * Loads the OpenTelemetry SDK only once a config turns tracing on: most sidecars run with it off, and the SDK and
 * its OTLP exporter cost start-up time and resident memory they would never use. The SDK arrives asynchronously
 * (a separate chunk of the bundle); `loaded()` lets start-up wait for it, so a sidecar started with tracing on traces
 * its first request. Turned on by a hot reload, tracing starts once the SDK has loaded, a few milliseconds later.
 */
export class LazyTracer implements RequestTracer {
  private impl: OtelRequestTracer | undefined;
  private loading: Promise<void> | undefined;
  /** The newest tracing section, applied when the SDK finishes loading. */
  private latest: MeshTracing | undefined;
  private closed = false;
  private readonly options: { service: string; namespace: string; log?: Logger | undefined; env?: NodeJS.ProcessEnv | undefined };

  constructor(options: { service: string; namespace: string; log?: Logger | undefined; env?: NodeJS.ProcessEnv | undefined }) {
    this.options = options;
  }

  configure(mesh: MeshTracing): void {
    this.latest = mesh;
    if (this.impl) {
      this.impl.configure(mesh);
      return;
    }
    if (this.loading || !resolveTracing(mesh, this.options.service, this.options.env ?? process.env).settings) return;
    this.loading = import('./otel-tracer.ts').then(
      ({ OtelRequestTracer: Tracer }) => {
        if (this.closed) return;
        this.impl = new Tracer(this.options);
        this.impl.configure(this.latest ?? mesh);
      },
      (error: unknown) => {
        this.loading = undefined;
        this.options.log?.error('tracing is off: the OpenTelemetry SDK failed to load', { error: error instanceof Error ? error.message : String(error) });
      },
    );
  }

  /** Settles once a load started by `configure` has finished (at once when none is under way). */
  loaded(): Promise<void> {
    return this.loading ?? Promise.resolve();
  }

  begin(ctx: RequestContext): RequestTrace | undefined {
    return this.impl?.begin(ctx);
  }

  stats(): TracingStats {
    return this.impl?.stats() ?? { exported: 0, failed: 0, dropped: 0, queued: 0 };
  }

  shutdown(timeoutMs?: number): Promise<void> {
    this.closed = true;
    return this.impl?.shutdown(timeoutMs) ?? Promise.resolve();
  }
}
