import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type * as GrpcPackage from '@grpc/grpc-js';
import type * as ExporterPackage from '@opentelemetry/exporter-trace-otlp-grpc';
import type { TracingSettings } from './settings.ts';

/**
 * The OTLP/gRPC exporter, loaded in the background when a tracer is built for it: @grpc/grpc-js is large, and
 * sidecars exporting over OTLP/HTTP never load it. Spans that end before it has loaded wait for it, in the batch
 * processor's queue as usual. `http://` endpoints use plaintext gRPC, `https://` ones TLS; `headers` go as metadata.
 */
export function grpcSpanExporter(settings: TracingSettings): SpanExporter {
  const exporter = loadExporter(settings);
  // Observed here so a failed load is not an unhandled rejection before the first export asks for it.
  exporter.catch(() => undefined);
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
      const failed = (error: unknown): void => done({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
      exporter.then((loaded) => {
        try {
          loaded.export(spans, done);
        } catch (error) {
          failed(error);
        }
      }, failed);
    },
    shutdown: () => exporter.then((loaded) => loaded.shutdown(), () => undefined),
    forceFlush: () => exporter.then((loaded) => loaded.forceFlush?.(), () => undefined),
  };
}

type ExporterModule = typeof ExporterPackage;
type GrpcModule = typeof GrpcPackage;

async function loadExporter(settings: TracingSettings): Promise<SpanExporter> {
  // Both are CommonJS: `default` is their `module.exports`, in Node and in the bundle alike (a bundle's dynamic
  // chunk of a CommonJS package has no named exports).
  const [exporterModule, grpcModule] = await Promise.all([import('@opentelemetry/exporter-trace-otlp-grpc'), import('@grpc/grpc-js')]);
  const { OTLPTraceExporter } = (exporterModule as unknown as { default: ExporterModule }).default;
  const { Metadata } = (grpcModule as unknown as { default: GrpcModule }).default;
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(settings.headers)) metadata.set(name, value);
  return new OTLPTraceExporter({ url: settings.endpoint, metadata, timeoutMillis: settings.exportTimeoutMs, concurrencyLimit: 4 });
}
