import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meshTracing } from '../../../policy/schema/mesh.ts';
import { resolveTracing } from './settings.ts';

const on = meshTracing.parse({ enabled: true, otlp: { headers: [{ name: 'Authorization', value: 'yaml' }] } });

test('defaults: off; when on, 1 %, local OTLP/HTTP, all propagation formats', () => {
  assert.equal(resolveTracing(meshTracing.parse({}), 'svc', {}).settings, undefined);
  const s = resolveTracing(on, 'svc', {}).settings;
  assert.equal(s?.endpoint, 'http://127.0.0.1:4318/v1/traces');
  assert.equal(s?.ratio, 0.01);
  assert.deepEqual(s?.propagation, ['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger']);
  assert.equal(s?.serviceName, 'svc');
});

test('OTEL_* variables win over the Mesh section', () => {
  const { settings, warnings } = resolveTracing(on, 'svc', {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
    OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20x,x-tenant=a',
    OTEL_TRACES_SAMPLER_ARG: '0.25',
    OTEL_SERVICE_NAME: 'renamed',
    OTEL_PROPAGATORS: 'tracecontext,b3,xray',
  });
  assert.equal(settings?.endpoint, 'http://collector:4318/v1/traces');
  assert.deepEqual(settings?.headers, { authorization: 'Bearer x', 'x-tenant': 'a' });
  assert.equal(settings?.ratio, 0.25);
  assert.equal(settings?.serviceName, 'renamed');
  assert.deepEqual(settings?.propagation, ['tracecontext', 'b3']);
  assert.match(warnings.join('\n'), /xray/);
  assert.equal(resolveTracing(on, 'svc', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b/traces' }).settings?.endpoint, 'http://b/traces');
});

test('bad environment values are ignored with a warning; OTEL_SDK_DISABLED turns tracing off', () => {
  const { settings, warnings } = resolveTracing(on, 'svc', { OTEL_TRACES_SAMPLER_ARG: '5', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
  assert.equal(settings?.ratio, 0.01);
  assert.equal(warnings.length, 2);
  assert.equal(resolveTracing(on, 'svc', { OTEL_SDK_DISABLED: 'true' }).settings, undefined);
});

test('the schema rejects grpc with a clear message', () => {
  const result = meshTracing.safeParse({ enabled: true, otlp: { protocol: 'grpc' } });
  assert.equal(result.success, false);
  assert.match(JSON.stringify(result.error?.issues), /not supported in this version/);
});
