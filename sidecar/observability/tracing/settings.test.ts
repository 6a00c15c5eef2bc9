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
  const { settings, warnings } = resolveTracing(on, 'svc', { OTEL_TRACES_SAMPLER_ARG: '5', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
  assert.equal(settings?.ratio, 0.01);
  assert.equal(settings?.protocol, 'http/protobuf');
  assert.equal(warnings.length, 2);
  assert.match(warnings.join('\n'), /http\/json/);
  assert.equal(resolveTracing(on, 'svc', { OTEL_SDK_DISABLED: 'true' }).settings, undefined);
});

test('grpc: default endpoint 4317, the base endpoint used as it is, the protocol also from the environment', () => {
  const grpc = meshTracing.parse({ enabled: true, otlp: { protocol: 'grpc' } });
  assert.deepEqual(pick(resolveTracing(grpc, 'svc', {}).settings), { protocol: 'grpc', endpoint: 'http://127.0.0.1:4317' });
  assert.deepEqual(pick(resolveTracing(grpc, 'svc', { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4317' }).settings), { protocol: 'grpc', endpoint: 'https://collector:4317' });
  assert.deepEqual(pick(resolveTracing(on, 'svc', { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' }).settings), { protocol: 'grpc', endpoint: 'http://127.0.0.1:4317' });
  assert.deepEqual(pick(resolveTracing(on, 'svc', {}).settings), { protocol: 'http/protobuf', endpoint: 'http://127.0.0.1:4318/v1/traces' });
  const explicit = meshTracing.parse({ enabled: true, otlp: { protocol: 'grpc', endpoint: 'http://otel:14317' } });
  assert.equal(resolveTracing(explicit, 'svc', {}).settings?.endpoint, 'http://otel:14317');
});

test('grpc takes host:port (TLS unless _INSECURE=true); an endpoint meant for the other protocol is not reused', () => {
  const grpc = meshTracing.parse({ enabled: true, otlp: { protocol: 'grpc' } });
  assert.equal(resolveTracing(grpc, 'svc', { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' }).settings?.endpoint, 'https://collector:4317');
  assert.equal(resolveTracing(grpc, 'svc', { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317', OTEL_EXPORTER_OTLP_INSECURE: 'true' }).settings?.endpoint, 'http://collector:4317');
  const httpMesh = meshTracing.parse({ enabled: true, otlp: { endpoint: 'http://otel:4318/v1/traces' } });
  const switched = resolveTracing(httpMesh, 'svc', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
  assert.equal(switched.settings?.endpoint, 'http://127.0.0.1:4317');
  assert.match(switched.warnings.join('\n'), /is for http\/protobuf/);
  assert.equal(resolveTracing(httpMesh, 'svc', {}).settings?.endpoint, 'http://otel:4318/v1/traces');
});

function pick(settings: { protocol: string; endpoint: string } | undefined): { protocol: string; endpoint: string } | undefined {
  return settings && { protocol: settings.protocol, endpoint: settings.endpoint };
}
