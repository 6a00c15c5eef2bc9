import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs, MAX_RETRY_AFTER_MS, retryWaitMs } from './backoff.ts';
import { seededRandom } from './test-support.ts';

const defaults = { baseMs: 25, maxMs: 250 };
const almostOne = () => 1 - Number.EPSILON;

describe('backoffMs (Envoy full jitter)', () => {
  it('retry n waits below (2^(n+1) − 1) · base, capped at max', () => {
    assert.deepEqual([0, 1, 2, 3, 4].map((n) => backoffMs(n, defaults, almostOne)), [24, 74, 174, 250, 250]);
    assert.deepEqual([0, 1, 2, 3].map((n) => backoffMs(n, defaults, () => 0)), [0, 0, 0, 0]);
  });

  it('the ceiling stops growing once past max, as Envoy', () => {
    // ceilings 25, 75, 175, 375, 375: half of 375 is 187 for retry 3 and 4 alike
    assert.equal(backoffMs(3, defaults, () => 0.5), 187);
    assert.equal(backoffMs(4, defaults, () => 0.5), 187);
    assert.equal(backoffMs(9, defaults, () => 0.5), 187);
  });

  it('stays within bounds for a seeded random sequence', () => {
    const random = seededRandom(42);
    for (let n = 0; n < 8; n++) {
      const ceiling = Math.min((2 ** (n + 1) - 1) * 25, 250);
      for (let i = 0; i < 500; i++) {
        const wait = backoffMs(n, defaults, random);
        assert.ok(Number.isInteger(wait) && wait >= 0 && wait <= ceiling, `retry ${n} waited ${wait}`);
      }
    }
  });

  it('a zero base retries at once', () => {
    assert.equal(backoffMs(3, { baseMs: 0, maxMs: 0 }, almostOne), 0);
  });
});

describe('retryWaitMs', () => {
  it("honours the upstream's Retry-After instead of the backoff", () => {
    assert.equal(retryWaitMs(0, defaults, almostOne, 2000), 2000);
    assert.equal(retryWaitMs(0, defaults, almostOne, 0), 0);
  });

  it('caps Retry-After at 300 s and ignores nonsense', () => {
    assert.equal(retryWaitMs(0, defaults, almostOne, 3_600_000), MAX_RETRY_AFTER_MS);
    assert.equal(retryWaitMs(0, defaults, almostOne, -5), 0);
    assert.equal(retryWaitMs(1, defaults, () => 0.5, Number.NaN), 37);
  });

  it('falls back to the backoff without Retry-After', () => {
    assert.equal(retryWaitMs(2, defaults, () => 0.5, undefined), 87);
  });
});
