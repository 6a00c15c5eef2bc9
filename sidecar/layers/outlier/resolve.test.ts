import { test } from 'node:test';
import assert from 'node:assert/strict';
import { passiveHealthCheck } from '../../../policy/schema/traffic-policy.ts';
import { DEFAULT_OUTLIER_DETECTION, resolveOutlierDetection } from './resolve.ts';

test('passive health checking is on by default with Envoy defaults', () => {
  assert.deepEqual(resolveOutlierDetection(undefined), {
    consecutive5xx: 5,
    consecutiveGatewayErrors: 5,
    intervalMs: 10_000,
    baseEjectionTimeMs: 30_000,
    maxEjectionTimeMs: 300_000,
    maxEjectionPercent: 50,
  });
  assert.deepEqual(resolveOutlierDetection({}), DEFAULT_OUTLIER_DETECTION);
});

test('schema durations arrive in ms and override defaults one by one', () => {
  const spec = passiveHealthCheck.parse({ consecutive5XxErrors: 3, baseEjectionTime: '10s', maxEjectionTime: '1m', maxEjectionPercent: 50 });
  assert.deepEqual(resolveOutlierDetection(spec), {
    consecutive5xx: 3,
    consecutiveGatewayErrors: 5,
    intervalMs: 10_000,
    baseEjectionTimeMs: 10_000,
    maxEjectionTimeMs: 60_000,
    maxEjectionPercent: 50,
  });
});

test('off only when nothing could ever be ejected', () => {
  assert.equal(resolveOutlierDetection(passiveHealthCheck.parse({ consecutive5XxErrors: 0, consecutiveGatewayErrors: 0 })), undefined);
  assert.equal(resolveOutlierDetection(passiveHealthCheck.parse({ maxEjectionPercent: 0 })), undefined);
  assert.ok(resolveOutlierDetection(passiveHealthCheck.parse({ consecutive5XxErrors: 0 })));
});
