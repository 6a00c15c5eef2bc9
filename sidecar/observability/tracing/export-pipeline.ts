import { TraceFlags, type Context } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { BatchSpanProcessor, type ReadableSpan, type Span, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** Counters of spans on their way out, kept across reconfigurations. */
export interface TracingStats {
  /** Spans the collector accepted. */
  exported: number;
  /** Spans whose export failed (collector down, refused, timed out). */
  failed: number;
  /** Spans dropped because the queue was full: the collector is slower than the traffic. */
  dropped: number;
  /** Spans waiting for export now. */
  queued: number;
}

export function emptyStats(): TracingStats {
  return { exported: 0, failed: 0, dropped: 0, queued: 0 };
}

/**
 * A `BatchSpanProcessor` with a queue bound we count ourselves: the SDK drops silently (it only logs), while
 * operators need the number. Spans ended while `queued` is at `maxQueueSize` are dropped and counted here; the
 * batch processor's own bound is the same, so it never drops on its own.
 */
export function exportPipeline(
  exporter: SpanExporter,
  stats: TracingStats,
  options: { maxQueueSize: number; maxExportBatchSize: number; scheduledDelayMs: number; exportTimeoutMs: number; onExportError?: (error: Error | undefined) => void },
): SpanProcessor {
  const counting: SpanExporter = {
    export(spans, resultCallback) {
      stats.queued = Math.max(0, stats.queued - spans.length);
      exporter.export(spans, (result: ExportResult) => {
        if (result.code === ExportResultCode.SUCCESS) stats.exported += spans.length;
        else {
          stats.failed += spans.length;
          options.onExportError?.(result.error);
        }
        resultCallback(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
  const batch = new BatchSpanProcessor(counting, {
    maxQueueSize: options.maxQueueSize,
    maxExportBatchSize: options.maxExportBatchSize,
    scheduledDelayMillis: options.scheduledDelayMs,
    exportTimeoutMillis: options.exportTimeoutMs + 500,
  });
  return {
    onStart(span: Span, parentContext: Context) {
      batch.onStart(span, parentContext);
    },
    onEnd(span: ReadableSpan) {
      if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
      if (stats.queued >= options.maxQueueSize) {
        stats.dropped++;
        return;
      }
      stats.queued++;
      batch.onEnd(span);
    },
    forceFlush: () => batch.forceFlush(),
    shutdown: () => batch.shutdown(),
  };
}
