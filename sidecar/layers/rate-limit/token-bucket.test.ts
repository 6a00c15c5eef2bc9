import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { gcraStep, limitShape, TokenBuckets, type LimitShape } from './token-bucket.ts';

function fakeClock(startMs = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = startMs;
  return { now: () => t, advance: (ms) => (t += ms) };
}

test('shape: capacity is burst, else requests; one token every unit / requests', () => {
  assert.deepEqual(limitShape({ requests: 10, unit: 'Second' }), { burst: 10, intervalUs: 100_000 });
  assert.deepEqual(limitShape({ requests: 10, unit: 'Second', burst: 25 }), { burst: 25, intervalUs: 100_000 });
  assert.deepEqual(limitShape({ requests: 2, unit: 'Minute' }), { burst: 2, intervalUs: 30_000_000 });
  assert.deepEqual(limitShape({ requests: 3, unit: 'Second' }), { burst: 3, intervalUs: 333_333 });
  assert.deepEqual(limitShape({ requests: 1, unit: 'Hour' }), { burst: 1, intervalUs: 3_600_000_000 });
});

test('a full bucket admits a burst, counting down, then refuses with Retry-After until a token is back', () => {
  const clock = fakeClock();
  const buckets = new TokenBuckets(limitShape({ requests: 10, unit: 'Second', burst: 5 }), { clock: clock.now });
  const remaining = Array.from({ length: 5 }, () => buckets.take('k'));
  assert.deepEqual(remaining.map((d) => [d.allowed, d.remaining]), [[true, 4], [true, 3], [true, 2], [true, 1], [true, 0]]);
  assert.deepEqual(remaining.map((d) => d.resetMs), [100, 200, 300, 400, 500]);
  assert.deepEqual(buckets.take('k'), { allowed: false, remaining: 0, resetMs: 500, retryAfterMs: 100 });

  clock.advance(60);
  assert.deepEqual(buckets.take('k'), { allowed: false, remaining: 0, resetMs: 440, retryAfterMs: 40 });
  clock.advance(40);
  assert.deepEqual(buckets.take('k'), { allowed: true, remaining: 0, resetMs: 500, retryAfterMs: 0 });
  assert.equal(buckets.take('k').allowed, false);
});

test('refill: tokens come back at requests/unit and never beyond capacity', () => {
  const clock = fakeClock();
  const buckets = new TokenBuckets(limitShape({ requests: 10, unit: 'Second', burst: 5 }), { clock: clock.now });
  for (let i = 0; i < 5; i++) buckets.take('k');
  clock.advance(300); // three tokens
  const admitted = Array.from({ length: 5 }, () => buckets.take('k').allowed).filter(Boolean).length;
  assert.equal(admitted, 3);
  clock.advance(60_000); // idle for a minute: full (5), not 600
  const burst = Array.from({ length: 8 }, () => buckets.take('k').allowed).filter(Boolean).length;
  assert.equal(burst, 5);
});

test('slow limits: Retry-After is the wait for the next token, in ms', () => {
  const clock = fakeClock();
  const perMinute = new TokenBuckets(limitShape({ requests: 2, unit: 'Minute' }), { clock: clock.now });
  perMinute.take('k');
  perMinute.take('k');
  assert.deepEqual(perMinute.take('k'), { allowed: false, remaining: 0, resetMs: 60_000, retryAfterMs: 30_000 });
  clock.advance(29_999);
  assert.equal(perMinute.take('k').retryAfterMs, 1);
  clock.advance(1);
  assert.equal(perMinute.take('k').allowed, true);

  const thirds = new TokenBuckets(limitShape({ requests: 3, unit: 'Second', burst: 1 }), { clock: clock.now });
  thirds.take('k');
  assert.equal(thirds.take('k').retryAfterMs, 334); // 333.333 ms, rounded up
});

test('keys have separate buckets', () => {
  const clock = fakeClock();
  const buckets = new TokenBuckets(limitShape({ requests: 1, unit: 'Second' }), { clock: clock.now });
  assert.equal(buckets.take('a').allowed, true);
  assert.equal(buckets.take('a').allowed, false);
  assert.equal(buckets.take('b').allowed, true);
});

test('LRU bound: a key flood never holds more than maxKeys buckets and evicts the least recently used', () => {
  const clock = fakeClock();
  const buckets = new TokenBuckets(limitShape({ requests: 1, unit: 'Hour' }), { clock: clock.now, maxKeys: 3 });
  buckets.take('a');
  buckets.take('b');
  buckets.take('c');
  buckets.take('a'); // a is now the most recently used
  buckets.take('d'); // evicts b
  assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => buckets.has(k)), [true, false, true, true]);
  assert.equal(buckets.stats().keys, 3);

  const big = new TokenBuckets(limitShape({ requests: 1, unit: 'Hour' }), { clock: clock.now, maxKeys: 100 });
  assert.equal(big.take('busy').allowed, true);
  for (let i = 0; i < 10_000; i++) {
    big.take(`flood-${i}`);
    if (i % 50 === 0) assert.equal(big.take('busy').allowed, false, 'a busy key is never evicted by the flood');
    assert.ok(big.stats().keys! <= 100);
  }
  assert.equal(big.has('busy'), true);
});

test('GCRA step equals a token bucket counted in integer token-microseconds (property)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 500_000 }),
      fc.array(fc.integer({ min: 0, max: 300_000 }), { minLength: 1, maxLength: 200 }),
      (burst, intervalUs, gaps) => {
        const shape: LimitShape = { burst, intervalUs };
        const capacity = burst * intervalUs; // one token = intervalUs "token-microseconds"
        let level = capacity;
        let tat = 0;
        let now = 1_000_000;
        for (const gap of gaps) {
          level = Math.min(capacity, level + gap);
          now += gap;
          const step = gcraStep(tat, now, shape);
          tat = step.tatUs;
          const expected = level >= intervalUs;
          if (expected) level -= intervalUs;
          if (step.decision.allowed !== expected) return false;
          if (step.decision.allowed && step.decision.remaining !== Math.floor(level / intervalUs)) return false;
          if (!step.decision.allowed && step.decision.retryAfterMs !== Math.ceil((intervalUs - level) / 1000)) return false;
        }
        return true;
      },
    ),
  );
});
