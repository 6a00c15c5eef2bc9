import { createRequire } from 'node:module';
import type { MeshTracing } from '../../../policy/schema/mesh.ts';
import type { Logger } from '../../log.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import type { RequestTrace, RequestTracer } from '../request-trace.ts';
import type { TracingStats } from './export-pipeline.ts';
import type * as OtelTracerModule from './otel-tracer.ts';
import type { OtelRequestTracer } from './otel-tracer.ts';
import { resolveTracing } from './settings.ts';

/**
 * Loads the OpenTelemetry SDK only once a config turns tracing on: most sidecars run with it off, and the SDK and
 * its OTLP exporter cost start-up time and resident memory they would never use.
 */
export class LazyTracer implements RequestTracer {
  private impl: OtelRequestTracer | undefined;
  private readonly options: { service: string; namespace: string; log?: Logger | undefined; env?: NodeJS.ProcessEnv | undefined };

  constructor(options: { service: string; namespace: string; log?: Logger | undefined; env?: NodeJS.ProcessEnv | undefined }) {
    this.options = options;
  }

  configure(mesh: MeshTracing): void {
    if (!this.impl) {
      if (!resolveTracing(mesh, this.options.service, this.options.env ?? process.env).settings) return;
      const { OtelRequestTracer: Tracer } = createRequire(import.meta.url)('./otel-tracer.ts') as typeof OtelTracerModule;
      this.impl = new Tracer(this.options);
    }
    this.impl.configure(mesh);
  }

  begin(ctx: RequestContext): RequestTrace | undefined {
    return this.impl?.begin(ctx);
  }

  stats(): TracingStats {
    return this.impl?.stats() ?? { exported: 0, failed: 0, dropped: 0, queued: 0 };
  }

  shutdown(timeoutMs?: number): Promise<void> {
    return this.impl?.shutdown(timeoutMs) ?? Promise.resolve();
  }
}
