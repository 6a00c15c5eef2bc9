import assert from 'node:assert/strict';
import { test } from 'node:test';
import { overloadReason } from './overload-guard.ts';

test('overloaded while the event loop delay or the heap share is over its threshold, and says which', () => {
  const thresholds = { maxEventLoopDelayMs: 500, maxHeapFraction: 0.9 };
  assert.equal(overloadReason({ eventLoopDelayMs: 12, heapFraction: 0.4 }, thresholds), undefined);
  assert.match(overloadReason({ eventLoopDelayMs: 750, heapFraction: 0.4 }, thresholds) ?? '', /event loop delay p99 750 ms > 500 ms/);
  assert.match(overloadReason({ eventLoopDelayMs: 12, heapFraction: 0.95 }, thresholds) ?? '', /heap at 95 % of its limit > 90 %/);
});

test('a threshold of 0 turns its check off', () => {
  assert.equal(overloadReason({ eventLoopDelayMs: 10_000, heapFraction: 0.99 }, { maxEventLoopDelayMs: 0, maxHeapFraction: 0 }), undefined);
});
