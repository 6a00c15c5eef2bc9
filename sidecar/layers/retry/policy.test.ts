import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conditionsFor, DEFAULT_BUDGET, resolveRetryPolicy } from './policy.ts';

describe('resolveRetryPolicy', () => {
  it('defaults: 2 retries on gateway errors, resets, timeouts and connect failures, not on 500', () => {
    const policy = resolveRetryPolicy();
    assert.equal(policy.numRetries, 2);
    assert.deepEqual([...policy.retryOn.statuses].sort(), [502, 503, 504]);
    assert.equal(policy.retryOn.statuses.has(500), false);
    assert.deepEqual(
      { ...policy.retryOn, statuses: undefined },
      { statuses: undefined, connectFailure: true, refusedStream: true, reset: true, timeout: true },
    );
    assert.deepEqual(policy.backoff, { baseMs: 25, maxMs: 250 });
    assert.equal(policy.perTryTimeoutMs, undefined);
    assert.equal(policy.bufferLimitBytes, 64 * 1024);
    assert.deepEqual(policy.budget, DEFAULT_BUDGET);
    assert.deepEqual(DEFAULT_BUDGET, { ratio: 0.2, minRetriesPerSecond: 10, windowMs: 10_000 });
  });

  it('takes every TrafficPolicy field', () => {
    const policy = resolveRetryPolicy({
      numRetries: 4,
      retryOn: { triggers: ['5xx'] },
      perRetry: { timeout: 300, backOff: { baseInterval: 10, maxInterval: 40 } },
      budget: { percent: 50, minRetriesPerSecond: 1, window: 30_000 },
      bufferLimitBytes: 1024,
    });
    assert.equal(policy.numRetries, 4);
    assert.equal(policy.retryOn.statuses.size, 100);
    assert.equal(policy.perTryTimeoutMs, 300);
    assert.deepEqual(policy.backoff, { baseMs: 10, maxMs: 40 });
    assert.equal(policy.bufferLimitBytes, 1024);
    assert.deepEqual(policy.budget, { ratio: 0.5, minRetriesPerSecond: 1, windowMs: 30_000 });
  });

  it('HTTPRoute fields override the policy: attempts, codes (as the only retried statuses) and backoff base', () => {
    const policy = resolveRetryPolicy(
      { numRetries: 1, retryOn: { triggers: ['gateway-error'] }, perRetry: { backOff: { maxInterval: 2000 } } },
      { attempts: 3, codes: [500, 503], backoff: 100 },
    );
    assert.equal(policy.numRetries, 3);
    assert.deepEqual([...policy.retryOn.statuses].sort(), [500, 503]);
    assert.equal(policy.retryOn.connectFailure, true, 'failure kinds from the policy stay');
    assert.deepEqual(policy.backoff, { baseMs: 100, maxMs: 2000 });
  });

  it('a base interval alone caps the backoff at 10 × base, as Envoy; a cap below the base is raised to it', () => {
    assert.deepEqual(resolveRetryPolicy(undefined, { backoff: 40 }).backoff, { baseMs: 40, maxMs: 400 });
    assert.deepEqual(resolveRetryPolicy({ perRetry: { backOff: { baseInterval: 100, maxInterval: 50 } } }).backoff, { baseMs: 100, maxMs: 100 });
  });

  it('attempts: 0 or numRetries: 0 disables retries', () => {
    assert.equal(resolveRetryPolicy({ numRetries: 3 }, { attempts: 0 }).numRetries, 0);
    assert.equal(resolveRetryPolicy({ numRetries: 0 }).numRetries, 0);
  });

  it('a budget window shorter than 1 s is raised to 1 s', () => {
    assert.equal(resolveRetryPolicy({ budget: { window: 0 } }).budget.windowMs, 1000);
  });
});

describe('conditionsFor', () => {
  it('connect-failure alone retries only connect failures', () => {
    assert.deepEqual(conditionsFor(['connect-failure'], []), { statuses: new Set(), connectFailure: true, refusedStream: false, reset: false, timeout: false });
  });

  it('reset covers refused streams but not timeouts; 5xx and gateway-error cover timeouts (Envoy)', () => {
    const reset = conditionsFor(['reset'], []);
    assert.equal(reset.refusedStream, true);
    assert.equal(reset.timeout, false);
    assert.equal(conditionsFor(['5xx'], []).timeout, true);
    assert.equal(conditionsFor(['gateway-error'], []).timeout, true);
  });

  it('httpStatusCodes count with or without the retriable-status-codes trigger', () => {
    assert.deepEqual([...conditionsFor(['retriable-status-codes'], [409]).statuses], [409]);
    assert.deepEqual([...conditionsFor(['connect-failure'], [429]).statuses], [429]);
  });
});
