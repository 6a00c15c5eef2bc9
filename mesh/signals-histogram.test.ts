import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  bucketBounds,
  bucketValue,
  fromSparse,
  LATENCY_BUCKETS,
  LATENCY_MAX_MS,
  LATENCY_MIN_MS,
  latencyBucket,
  latencyPercentile,
  mergeLatency,
  nearestRank,
  newLatencyCounts,
  recordLatency,
  toSparse,
  totalCount,
} from './signals-histogram.ts';

/** Worst relative error of a bucket's geometric middle: sqrt(1.1) − 1. */
const PRECISION = Math.sqrt(1.1) - 1 + 1e-9;

function histogramOf(values: readonly number[]): Float64Array {
  const counts = newLatencyCounts();
  for (const v of values) recordLatency(counts, v);
  return counts;
}

/** Nearest-rank percentile by sorting: the reference the histogram must match within one bucket. */
function bruteForce(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[nearestRank(p, sorted.length) - 1]!;
}

/** Latencies spread over the whole range, log-uniform as real latencies roughly are. */
const latency = fc.double({ min: Math.log(LATENCY_MIN_MS), max: Math.log(LATENCY_MAX_MS * 0.999), noNaN: true }).map(Math.exp);
const percent = fc.oneof(fc.constantFrom(50, 90, 99, 99.9, 100), fc.double({ min: 0.1, max: 100, noNaN: true }));

describe('latency buckets', () => {
  it('is compact: 142 buckets cover 0.1 ms to 60 s with ~5 % precision', () => {
    assert.equal(LATENCY_BUCKETS, 142);
    assert.ok(PRECISION < 0.05);
  });

  it('puts every value in the bucket whose bounds hold it, monotonically', () => {
    fc.assert(
      fc.property(latency, latency, (a, b) => {
        const [low, high] = bucketBounds(latencyBucket(a));
        assert.ok(a >= low * (1 - 1e-12) && a < high * (1 + 1e-12), `${a} in [${low}, ${high})`);
        if (a <= b) assert.ok(latencyBucket(a) <= latencyBucket(b));
        assert.ok(Math.abs(bucketValue(latencyBucket(a)) - a) / a <= PRECISION);
      }),
      { numRuns: 2000 },
    );
  });

  it('sends sub-resolution values to bucket 0 and 60 s or more to the overflow bucket', () => {
    assert.equal(latencyBucket(0), 0);
    assert.equal(latencyBucket(0.05), 0);
    assert.equal(latencyBucket(-1), 0);
    assert.equal(latencyBucket(Number.NaN), 0);
    assert.equal(latencyBucket(LATENCY_MIN_MS), 1);
    assert.equal(latencyBucket(LATENCY_MAX_MS), LATENCY_BUCKETS - 1);
    assert.equal(latencyBucket(3_600_000), LATENCY_BUCKETS - 1);
    assert.equal(bucketValue(0), LATENCY_MIN_MS);
    assert.equal(bucketValue(LATENCY_BUCKETS - 1), LATENCY_MAX_MS);
    assert.ok(latencyBucket(LATENCY_MAX_MS - 1e-6) < LATENCY_BUCKETS - 1);
  });
});

describe('percentiles', () => {
  it('match a brute-force sort within one bucket on random data', () => {
    fc.assert(
      fc.property(fc.array(latency, { minLength: 1, maxLength: 400 }), percent, (values, p) => {
        const exact = bruteForce(values, p);
        const estimate = latencyPercentile(histogramOf(values), p)!;
        assert.ok(Math.abs(estimate - exact) / exact <= PRECISION, `p${p}: ${estimate} vs ${exact}`);
      }),
      { numRuns: 500 },
    );
  });

  it('of merged histograms match a brute-force sort of all the data (merge counts, never average percentiles)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(latency, { maxLength: 200 }), { minLength: 1, maxLength: 6 }), percent, (replicas, p) => {
        const all = replicas.flat();
        const merged = newLatencyCounts();
        for (const values of replicas) mergeLatency(merged, histogramOf(values));
        assert.deepEqual(merged, histogramOf(all));
        assert.equal(totalCount(merged), all.length);
        if (all.length === 0) return assert.equal(latencyPercentile(merged, p), undefined);
        const exact = bruteForce(all, p);
        assert.ok(Math.abs(latencyPercentile(merged, p)! - exact) / exact <= PRECISION);
      }),
      { numRuns: 300 },
    );
  });

  it('differ from the average of per-replica percentiles when replicas differ', () => {
    const fast = Array.from({ length: 99 }, () => 10);
    const slow = [1000];
    const merged = histogramOf([...fast, ...slow]);
    // One slow request among 100: the service's p99 is 10 ms; averaging the replicas' p99s would say ~505 ms.
    assert.ok(Math.abs(latencyPercentile(merged, 99)! - 10) / 10 <= PRECISION);
    assert.ok(Math.abs(latencyPercentile(merged, 100)! - 1000) / 1000 <= PRECISION);
  });

  it('computes ranks without floating-point overshoot', () => {
    assert.equal(nearestRank(99, 100), 99);
    assert.equal(nearestRank(50, 1), 1);
    assert.equal(nearestRank(90, 10), 9);
    assert.equal(nearestRank(99.9, 1000), 999);
    assert.equal(nearestRank(100, 7), 7);
    assert.equal(nearestRank(0.0001, 7), 1);
  });
});

describe('sparse wire form', () => {
  it('round-trips', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(latency, fc.constant(0), fc.constant(1e7)), { maxLength: 300 }), (values) => {
        const counts = histogramOf(values);
        const pairs = toSparse(counts);
        assert.ok(pairs.length <= 2 * LATENCY_BUCKETS);
        assert.deepEqual(fromSparse(JSON.parse(JSON.stringify(pairs))), counts);
      }),
    );
  });

  it('refuses anything but increasing in-range indices with positive integer counts', () => {
    for (const bad of [
      'x',
      {},
      [1],
      [2, 1, 1, 1],
      [1, 1, 1, 1],
      [-1, 1],
      [LATENCY_BUCKETS, 1],
      [1.5, 1],
      [1, 0],
      [1, -3],
      [1, 1.5],
      [1, '1'],
      [1, 2 ** 53],
      Array.from({ length: 2 * LATENCY_BUCKETS + 2 }, (_, i) => i),
    ]) {
      assert.throws(() => fromSparse(bad), TypeError, JSON.stringify(bad));
    }
  });
});
