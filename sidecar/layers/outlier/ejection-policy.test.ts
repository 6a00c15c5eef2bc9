import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decayedTimesEjected, ejectionBudget, ejectionDurationMs, timesEjectedCap } from './ejection-policy.ts';

test('ejection time is base × times ejected: 30, 60, 90 s … capped at 300 s', () => {
  assert.deepEqual([1, 2, 3, 9, 10, 11, 50].map((n) => ejectionDurationMs(n, 30_000, 300_000)), [30_000, 60_000, 90_000, 270_000, 300_000, 300_000, 300_000]);
});

test('a max below the base never shortens the base (Envoy caps at max(base, max))', () => {
  assert.equal(ejectionDurationMs(1, 30_000, 10_000), 30_000);
  assert.equal(ejectionDurationMs(3, 30_000, 10_000), 30_000);
});

test('times ejected stops growing where the duration is capped', () => {
  assert.equal(timesEjectedCap(30_000, 300_000), 10);
  assert.equal(timesEjectedCap(30_000, 100_000), 4);
  assert.equal(timesEjectedCap(30_000, 1_000), 1);
  assert.equal(timesEjectedCap(0, 1_000), 1);
});

test('times ejected decays by one per interval spent un-ejected', () => {
  assert.equal(decayedTimesEjected(3, 1_000, 1_000, 10_000), 3);
  assert.equal(decayedTimesEjected(3, 1_000, 10_999, 10_000), 3);
  assert.equal(decayedTimesEjected(3, 1_000, 11_000, 10_000), 2);
  assert.equal(decayedTimesEjected(3, 1_000, 41_000, 10_000), 0);
  assert.equal(decayedTimesEjected(0, 0, 0, 10_000), 0);
  assert.equal(decayedTimesEjected(3, 0, 0, 0), 0, 'a zero interval forgets at once');
});

test('budget: at least one ejection when the percentage allows any, as a user with 3 replicas expects', () => {
  assert.equal(ejectionBudget(3, 10), 1, 'Envoy would allow 0 here');
  assert.equal(ejectionBudget(1, 10), 1, 'the last-healthy rule, not the budget, protects a single endpoint');
  assert.equal(ejectionBudget(20, 10), 2);
  assert.equal(ejectionBudget(3, 50), 2, 'half, rounded up: with 3 replicas two may be out');
  assert.equal(ejectionBudget(11, 10), 2);
  assert.equal(ejectionBudget(10, 50), 5);
  assert.equal(ejectionBudget(3, 100), 3);
  assert.equal(ejectionBudget(3, 0), 0, '0 % disables ejection');
  assert.equal(ejectionBudget(0, 10), 0);
});
