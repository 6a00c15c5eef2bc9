import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startOtlpGrpcReceiver } from '../../../test/support/otlp-grpc-receiver.ts';
import { meshTracing } from '../../../policy/schema/mesh.ts';
import { grpcSpanExporter } from './grpc-exporter.ts';
import { resolveTracing, type TracingSettings } from './settings.ts';

function settingsFor(endpoint: string): TracingSettings {
  const mesh = meshTracing.parse({ enabled: true, otlp: { protocol: 'grpc', endpoint, headers: [{ name: 'x-tenant', value: 'team-a' }] } });
  const settings = resolveTracing(mesh, 'svc', {}).settings;
  assert.ok(settings);
  return { ...settings, exportTimeoutMs: 1_000 };
}

/** Two finished spans, made by a real tracer. */
function someSpans(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('test');
  tracer.startSpan('first').end();
  tracer.startSpan('second').end();
  return memory.getFinishedSpans();
}

const exportOnce = (exporter: ReturnType<typeof grpcSpanExporter>, spans: ReadableSpan[]): Promise<ExportResult> => new Promise((resolve) => exporter.export(spans, resolve));

test('spans reach a gRPC collector, with the headers as metadata', async () => {
  const receiver = await startOtlpGrpcReceiver();
  const exporter = grpcSpanExporter(settingsFor(receiver.endpoint));
  try {
    const result = await exportOnce(exporter, someSpans());
    assert.equal(result.code, ExportResultCode.SUCCESS);
    assert.deepEqual(receiver.spans.map((s) => s.name).sort(), ['first', 'second']);
    assert.equal(receiver.exports[0]?.headers['x-tenant'], 'team-a');
  } finally {
    await exporter.shutdown();
    await receiver.close();
  }
});

test('with no collector listening, an export fails and says so; nothing throws', async () => {
  const receiver = await startOtlpGrpcReceiver();
  const endpoint = receiver.endpoint;
  await receiver.close();
  const exporter = grpcSpanExporter(settingsFor(endpoint));
  try {
    const result = await exportOnce(exporter, someSpans());
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.ok(result.error);
  } finally {
    await exporter.shutdown();
  }
});
