import { test } from 'node:test';
import assert from 'node:assert/strict';
import { circuitBreaker } from '../../../policy/schema/traffic-policy.ts';
import { DEFAULT_CONCURRENCY_LIMITS, resolveConcurrencyLimits, resolveErrorRate, sameErrorRate } from './resolve.ts';

test('limits default to Envoy thresholds: 1024 connections, pending, requests; 3 retries', () => {
  assert.deepEqual(resolveConcurrencyLimits(undefined), { maxConnections: 1024, maxPendingRequests: 1024, maxParallelRequests: 1024, maxParallelRetries: 3 });
  assert.deepEqual(resolveConcurrencyLimits({}), DEFAULT_CONCURRENCY_LIMITS);
});

test('configured limits override each default on its own', () => {
  const spec = circuitBreaker.parse({ maxParallelRequests: 10, maxParallelRetries: 0 });
  assert.deepEqual(resolveConcurrencyLimits(spec), { maxConnections: 1024, maxPendingRequests: 1024, maxParallelRequests: 10, maxParallelRetries: 0 });
});

test('the error-rate breaker is opt-in: no errorRate, no breaker', () => {
  assert.equal(resolveErrorRate(undefined), undefined);
  assert.equal(resolveErrorRate(circuitBreaker.parse({ maxConnections: 5 })), undefined);
});

test('an empty errorRate turns the breaker on with 50 %, 20 requests, 10 s window, 30 s reset', () => {
  assert.deepEqual(resolveErrorRate(circuitBreaker.parse({ errorRate: {} })), { thresholdPercent: 50, volumeThreshold: 20, windowMs: 10_000, resetTimeoutMs: 30_000 });
});

test('errorRate durations arrive in ms from the schema', () => {
  const spec = circuitBreaker.parse({ errorRate: { thresholdPercent: 25, volumeThreshold: 5, window: '30s', resetTimeout: '1m' } });
  assert.deepEqual(resolveErrorRate(spec), { thresholdPercent: 25, volumeThreshold: 5, windowMs: 30_000, resetTimeoutMs: 60_000 });
});

test('sameErrorRate tells whether a reload may keep the breaker', () => {
  const a = resolveErrorRate(circuitBreaker.parse({ errorRate: {} }));
  const b = resolveErrorRate(circuitBreaker.parse({ errorRate: { thresholdPercent: 50 } }));
  const c = resolveErrorRate(circuitBreaker.parse({ errorRate: { thresholdPercent: 60 } }));
  assert.ok(sameErrorRate(a, b));
  assert.ok(!sameErrorRate(a, c));
  assert.ok(!sameErrorRate(a, undefined));
  assert.ok(sameErrorRate(undefined, undefined));
});

test('the schema refuses an error-rate window under 1s (opossum would rotate its buckets every few ms)', () => {
  const result = circuitBreaker.safeParse({ errorRate: { window: '500ms' } });
  assert.equal(result.success, false);
  assert.match(JSON.stringify(result.error?.issues), /at least 1s/);
});
