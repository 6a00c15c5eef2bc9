import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExportResultCode } from '@opentelemetry/core';
import { InMemorySpanExporter, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { meshTracing } from '../../../policy/schema/mesh.ts';
import { fakeContext } from '../../pipeline/fake-context.ts';
import { OtelRequestTracer } from './otel-tracer.ts';

const FAST = { OTEL_BSP_SCHEDULE_DELAY: '5' };
const at = (percentage: number, extra: object = {}) => meshTracing.parse({ enabled: true, sampling: { percentage }, ...extra });
const flush = () => new Promise((r) => setTimeout(r, 30));

test('disabled or unsampled: begin() returns undefined; an unsampled decision is passed on, not dropped', async () => {
  const memory = new InMemorySpanExporter();
  const tracer = new OtelRequestTracer({ service: 's', namespace: 'n', exporter: () => memory, env: FAST });
  const ctx = fakeContext({ headers: { b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0' } });
  assert.equal(tracer.begin(ctx), undefined, 'never configured');
  tracer.configure(meshTracing.parse({}));
  assert.equal(tracer.begin(ctx), undefined, 'enabled: false');
  tracer.configure(at(100));
  assert.equal(tracer.begin(ctx), undefined, 'parent says not sampled');
  tracer.configure(at(0));
  for (let i = 0; i < 100; i++) assert.equal(tracer.begin(fakeContext()), undefined, '0 %');
  // Not sampled upstream: the same trace goes on with the "not sampled" flag in every format, so later hops agree.
  assert.match(String(ctx.upstreamHeaders.traceparent), /^00-80f198ee56343ba864fe8b2a57d3eff7-[0-9a-f]{16}-00$/);
  assert.match(String(ctx.upstreamHeaders.b3), /^80f198ee56343ba864fe8b2a57d3eff7-[0-9a-f]{16}-0$/);
  await flush();
  assert.equal(memory.getFinishedSpans().length, 0);
  await tracer.shutdown();
});

test('100 % traces every request; only the configured formats are written', async () => {
  const memory = new InMemorySpanExporter();
  const tracer = new OtelRequestTracer({ service: 's', namespace: 'n', exporter: () => memory, env: FAST });
  tracer.configure(at(100, { propagation: ['tracecontext'] }));
  for (let i = 0; i < 20; i++) {
    const ctx = fakeContext({ headers: { 'x-b3-traceid': 'stale', b3: 'stale' } });
    const trace = tracer.begin(ctx);
    assert.ok(trace);
    trace.attemptStart(ctx, undefined).end({ status: 200, committed: true });
    trace.end(ctx, { status: 200, committed: true });
    assert.match(String(ctx.upstreamHeaders.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(ctx.upstreamHeaders.b3, 'stale', 'b3 is not configured: left alone');
  }
  await flush();
  assert.equal(memory.getFinishedSpans().length, 40);
  await tracer.shutdown();
});

test('a full queue drops spans and counts them; reconfiguring swaps providers without losing the counts', async () => {
  const stuck: SpanExporter = { export: () => undefined, shutdown: () => Promise.resolve() }; // never answers
  const tracer = new OtelRequestTracer({ service: 's', namespace: 'n', exporter: () => stuck, env: { OTEL_BSP_MAX_QUEUE_SIZE: '10', OTEL_BSP_SCHEDULE_DELAY: '100000', OTEL_EXPORTER_OTLP_TIMEOUT: '50' }, retireAfterMs: 1 });
  tracer.configure(at(100));
  for (let i = 0; i < 25; i++) {
    const ctx = fakeContext();
    tracer.begin(ctx)?.end(ctx, { status: 200, committed: true });
  }
  // 10 went to the exporter as one batch (still in flight), 10 wait in the queue, 5 found it full
  assert.deepEqual(tracer.stats(), { exported: 0, failed: 0, dropped: 5, queued: 10 });

  const exported: ReadableSpan[] = [];
  const counting: SpanExporter = { export: (spans, done) => (exported.push(...spans), done({ code: ExportResultCode.SUCCESS })), shutdown: () => Promise.resolve() };
  const next = new OtelRequestTracer({ service: 's', namespace: 'n', exporter: () => counting, env: FAST });
  next.configure(at(100));
  next.configure(at(100)); // unchanged: no new provider
  const ctx = fakeContext();
  next.begin(ctx)?.end(ctx, { status: 503, committed: false, flag: 'UF' });
  next.configure(at(50)); // changed: the old provider is retired and flushes what it holds
  await next.shutdown();
  assert.equal(exported.length, 1);
  assert.equal(exported[0]?.status.code, 2);
  assert.equal(exported[0]?.attributes['outrigger.reason'], 'UF');
  assert.equal(next.stats().exported, 1);
  await tracer.shutdown(10);
});
