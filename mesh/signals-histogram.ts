/**
 * The latency histogram sidecars report and the control plane merges: fixed log-scale buckets, the same on every
 * member, so merging is adding counts bucket by bucket and a percentile of the merge is exact up to one bucket
 * (±4.9 %). Never average percentiles across replicas: merge the counts, then take the percentile.
 *
 * Layout (HDR-like, growth 1.1 per bucket):
 *   index 0                 [0, 0.1 ms)             sub-resolution; reported as 0.1 ms
 *   index 1 … LOG_BUCKETS   [0.1·1.1^(i−1), 0.1·1.1^i) ms, the last one cut at 60 s
 *   index LOG_BUCKETS + 1   [60 s, ∞)               overflow; reported as 60 s ("at least")
 * The range starts at 0.1 ms rather than 1 ms because a local app behind a sidecar often answers in well under a
 * millisecond, and a p50 of "1 ms" for a 300 µs service would be off by 3×.
 */

export const LATENCY_MIN_MS = 0.1;
export const LATENCY_MAX_MS = 60_000;
export const LATENCY_GROWTH = 1.1;
const LOG_GROWTH = Math.log(LATENCY_GROWTH);
/** Log-scale buckets between the minimum and the maximum. */
export const LOG_BUCKETS = Math.ceil(Math.log(LATENCY_MAX_MS / LATENCY_MIN_MS) / LOG_GROWTH);
/** Every bucket, underflow and overflow included (142). */
export const LATENCY_BUCKETS = LOG_BUCKETS + 2;
const OVERFLOW = LOG_BUCKETS + 1;

/** Dense per-bucket counts, LATENCY_BUCKETS long. */
export type LatencyCounts = Float64Array;

export function newLatencyCounts(): LatencyCounts {
  return new Float64Array(LATENCY_BUCKETS);
}

/** The bucket a latency falls in. Monotonic in `ms`; NaN and negative values land in bucket 0. */
export function latencyBucket(ms: number): number {
  if (!(ms >= LATENCY_MIN_MS)) return 0;
  if (ms >= LATENCY_MAX_MS) return OVERFLOW;
  return Math.min(LOG_BUCKETS, Math.floor(Math.log(ms / LATENCY_MIN_MS) / LOG_GROWTH) + 1);
}

/** Lower (inclusive) and upper (exclusive) bound of a bucket, in ms. */
export function bucketBounds(index: number): [number, number] {
  if (index <= 0) return [0, LATENCY_MIN_MS];
  if (index >= OVERFLOW) return [LATENCY_MAX_MS, Infinity];
  return [LATENCY_MIN_MS * LATENCY_GROWTH ** (index - 1), Math.min(LATENCY_MAX_MS, LATENCY_MIN_MS * LATENCY_GROWTH ** index)];
}

/** The value a bucket stands for: the geometric middle of its bounds (within 4.9 % of anything in it). */
export function bucketValue(index: number): number {
  if (index <= 0) return LATENCY_MIN_MS;
  if (index >= OVERFLOW) return LATENCY_MAX_MS;
  const [low, high] = bucketBounds(index);
  return Math.sqrt(low * high);
}

export function recordLatency(counts: LatencyCounts, ms: number, n = 1): void {
  counts[latencyBucket(ms)]! += n;
}

/** Adds `source` into `target`, bucket by bucket. */
export function mergeLatency(target: LatencyCounts, source: LatencyCounts): void {
  for (let i = 0; i < LATENCY_BUCKETS; i++) target[i]! += source[i]!;
}

export function totalCount(counts: LatencyCounts): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  return total;
}

/**
 * The nearest-rank percentile (the smallest value with at least `p` % of observations at or below it), as the
 * value of the bucket that holds it; undefined with no observations. `p` in (0, 100].
 */
export function latencyPercentile(counts: LatencyCounts, p: number): number | undefined {
  const total = totalCount(counts);
  if (total === 0) return undefined;
  const rank = nearestRank(p, total);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!;
    if (seen >= rank) return bucketValue(i);
  }
  return bucketValue(OVERFLOW);
}

/** 1-based rank of the `p`th percentile among `total` sorted values; the epsilon keeps 99 % of 100 at 99, not 100. */
export function nearestRank(p: number, total: number): number {
  return Math.min(total, Math.max(1, Math.ceil((p * total) / 100 - 1e-9)));
}

/** Non-empty buckets as flat `[index, count, index, count, …]` pairs, for a compact wire form. */
export function toSparse(counts: LatencyCounts): number[] {
  const pairs: number[] = [];
  for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) pairs.push(i, counts[i]!);
  return pairs;
}

/** The inverse of toSparse; throws on anything else (indices must increase, counts be positive safe integers). */
export function fromSparse(pairs: unknown): LatencyCounts {
  if (!Array.isArray(pairs)) throw new TypeError('latency must be a list of [index, count] pairs');
  if (pairs.length % 2 !== 0 || pairs.length > 2 * LATENCY_BUCKETS) throw new TypeError(`latency must hold at most ${LATENCY_BUCKETS} [index, count] pairs`);
  const counts = newLatencyCounts();
  let last = -1;
  for (let k = 0; k < pairs.length; k += 2) {
    const index: unknown = pairs[k];
    const count: unknown = pairs[k + 1];
    if (!Number.isInteger(index) || (index as number) <= last || (index as number) >= LATENCY_BUCKETS) {
      throw new TypeError(`latency bucket index ${String(index)} is not an increasing integer below ${LATENCY_BUCKETS}`);
    }
    if (!Number.isSafeInteger(count) || (count as number) <= 0) throw new TypeError(`latency bucket count ${String(count)} is not a positive integer`);
    counts[index as number] = count as number;
    last = index as number;
  }
  return counts;
}
