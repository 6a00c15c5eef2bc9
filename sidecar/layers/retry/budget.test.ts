import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetryBudget } from './budget.ts';

function budget(ratio: number, minRetriesPerSecond: number, windowMs = 10_000) {
  const clock = { time: 0 };
  return { clock, budget: new RetryBudget({ ratio, minRetriesPerSecond, windowMs }, () => clock.time) };
}

function grant(b: RetryBudget, n: number): number {
  let granted = 0;
  for (let i = 0; i < n; i++) if (b.tryRetry()) granted++;
  return granted;
}

describe('RetryBudget', () => {
  it('the floor (min retries/s × window) allows retries when traffic is low', () => {
    const { budget: b } = budget(0.2, 10);
    for (let i = 0; i < 5; i++) b.recordRequest();
    assert.equal(grant(b, 150), 100);
    assert.equal(b.budgetExhausted, 50);
    assert.equal(b.retries, 100);
  });

  it('the ratio governs once it exceeds the floor', () => {
    const { budget: b } = budget(0.2, 10);
    for (let i = 0; i < 1000; i++) b.recordRequest();
    assert.equal(b.allowance(), 200);
    assert.equal(grant(b, 300), 200);
  });

  it('retries are counted when decided, so ones still waiting in backoff already use the budget', () => {
    const { budget: b } = budget(0.5, 0);
    for (let i = 0; i < 4; i++) b.recordRequest();
    b.recordRetry();
    b.recordRetry(); // both still in backoff: nothing completed
    assert.equal(b.canRetry(), false);
  });

  it('slides: old buckets leave the window one by one', () => {
    const { clock, budget: b } = budget(0, 1, 10_000); // 10 retries per window, buckets of 1 s
    assert.equal(grant(b, 10), 10);
    clock.time = 9_999; // still in the window's last bucket
    assert.equal(b.canRetry(), false);
    clock.time = 10_000; // the first bucket slid out
    assert.equal(b.canRetry(), true);
    assert.equal(grant(b, 20), 10);
    assert.equal(b.budgetExhausted, 10);
    clock.time = 15_500;
    assert.deepEqual(b.window(), { requests: 0, retries: 10 });
    clock.time = 20_000;
    assert.deepEqual(b.window(), { requests: 0, retries: 0 });
  });

  it('requests slide out too, shrinking the ratio share', () => {
    const { clock, budget: b } = budget(0.5, 0, 1_000);
    for (let i = 0; i < 10; i++) b.recordRequest();
    clock.time = 500;
    for (let i = 0; i < 4; i++) b.recordRequest();
    assert.equal(b.allowance(), 7);
    clock.time = 1_000;
    assert.equal(b.allowance(), 2);
    clock.time = 60_000;
    assert.equal(b.allowance(), 0);
    assert.equal(b.tryRetry(), false);
  });
});
