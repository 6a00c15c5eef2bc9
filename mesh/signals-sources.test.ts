import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aggregateEdges, aggregateSignals } from './signals-aggregate.ts';
import { LATENCY_BUCKETS, latencyPercentile, newLatencyCounts, recordLatency } from './signals-histogram.ts';
import { decodeSignalReport, encodeSignalReport, MAX_REPORT_BYTES, MAX_SOURCES, OTHER_SOURCE, SignalReportError, type SignalReport, type SourceCounts, type WindowSignals } from './signals-report.ts';

function window(durationMs: number, latencies: number[], errors: number, sources?: Record<string, SourceCounts>): WindowSignals {
  const latency = newLatencyCounts();
  for (const ms of latencies) recordLatency(latency, ms);
  return { durationMs, requests: latencies.length, errors, concurrency: 1, peakConcurrency: 2, latency, ...(sources ? { sources } : {}) };
}

const uniform = (n: number, ms: number): number[] => Array.from({ length: n }, () => ms);

function report(member: string, service: string, stable: WindowSignals, panic: WindowSignals): SignalReport {
  return { service, member, at: 1_764_237_600_000, intervalMs: 2000, windows: { stable, panic } };
}

const withSources = report(
  'catalog-1',
  'catalog.shop',
  window(60_000, uniform(120, 3), 6, { 'frontend.shop': { requests: 100, errors: 6 }, 'checkout.shop': { requests: 10, errors: 0 }, [OTHER_SOURCE]: { requests: 2, errors: 0 } }),
  window(6000, uniform(12, 3), 0, { 'frontend.shop': { requests: 12, errors: 0 } }),
);

const encoder = new TextEncoder();
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;
function wire(patch: (w: Loose) => void): Uint8Array {
  const value = JSON.parse(new TextDecoder().decode(encodeSignalReport(withSources))) as Loose;
  patch(value);
  return encoder.encode(JSON.stringify(value));
}

describe('per-caller counts in signal reports', () => {
  it('round-trip, names once at the top and [requests, errors] pairs per window', () => {
    const bytes = encodeSignalReport(withSources);
    const value = JSON.parse(new TextDecoder().decode(bytes)) as Loose;
    assert.deepEqual(value['sources'], ['checkout.shop', 'frontend.shop', OTHER_SOURCE]);
    assert.deepEqual(value['windows']['stable']['sources'], [10, 0, 100, 6, 2, 0]);
    assert.deepEqual(value['windows']['panic']['sources'], [0, 0, 12, 0, 0, 0]);
    const decoded = decodeSignalReport(bytes);
    assert.deepEqual(decoded.windows.stable, withSources.windows.stable);
    assert.deepEqual(decoded.windows.panic.sources, { 'checkout.shop': { requests: 0, errors: 0 }, 'frontend.shop': { requests: 12, errors: 0 }, [OTHER_SOURCE]: { requests: 0, errors: 0 } });
  });

  it('are left out of reports without callers, which decode as before', () => {
    const plain = report('a', 'catalog.shop', window(60_000, [1], 0), window(6000, [1], 0));
    const value = JSON.parse(new TextDecoder().decode(encodeSignalReport(plain))) as Loose;
    assert.equal(value['sources'], undefined);
    assert.equal(value['windows']['stable']['sources'], undefined);
    assert.deepEqual(decodeSignalReport(encodeSignalReport(plain)), plain);
  });

  it('stay within MAX_REPORT_BYTES in the worst case: every bucket, huge counts, longest names, every source', () => {
    const name = (i: number): string => `${String(i).padStart(2, '0')}${'a'.repeat(61)}.${'b'.repeat(63)}`;
    const full = (): WindowSignals => {
      const latency = newLatencyCounts().fill(2 ** 40);
      const sources: Record<string, SourceCounts> = {};
      for (let i = 0; i < MAX_SOURCES; i++) sources[name(i)] = { requests: 2 ** 40, errors: 2 ** 40 };
      sources[OTHER_SOURCE] = { requests: 2 ** 40, errors: 2 ** 40 };
      return { durationMs: 6000, requests: LATENCY_BUCKETS * 2 ** 40, errors: 12345678901, concurrency: 123456.123456, peakConcurrency: 999_999_999, latency, sources };
    };
    const worst: SignalReport = { service: name(99), member: 'm'.repeat(255), at: Number.MAX_SAFE_INTEGER, intervalMs: 60_000, windows: { stable: full(), panic: full() } };
    const bytes = encodeSignalReport(worst);
    assert.ok(bytes.length <= MAX_REPORT_BYTES * 0.85, `${bytes.length} bytes`);
  });

  it('are refused, with a reason, when malformed', () => {
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['empty names', wire((w) => (w['sources'] = [])), /sources must list/],
      ['names not a list', wire((w) => (w['sources'] = 'frontend.shop')), /sources must list/],
      ['a bad name', wire((w) => (w['sources'][0] = 'Frontend')), /sources must be/],
      ['a repeated name', wire((w) => (w['sources'][1] = w['sources'][0])), /must not repeat/],
      ['too many names', wire((w) => (w['sources'] = Array.from({ length: MAX_SOURCES + 1 }, (_, i) => `s${i}.shop`))), /sources must (list|name)/],
      ['counts without names', wire((w) => delete w['sources']), /unknown field "sources"/],
      ['names without counts', wire((w) => delete w['windows']['panic']['sources']), /lacks "sources"/],
      ['a missing pair', wire((w) => w['windows']['stable']['sources'].pop()), /a \[requests, errors\] pair per source/],
      ['more errors than requests', wire((w) => (w['windows']['stable']['sources'][1] = 11)), /sources\[1\] must be/],
      ['a fraction', wire((w) => (w['windows']['stable']['sources'][0] = 1.5)), /sources\[0\] must be/],
      ['more than the window', wire((w) => (w['windows']['panic']['sources'] = [12, 0, 12, 0, 0, 0])), /more than 12/],
    ];
    for (const [what, bytes, message] of cases) assert.throws(() => decodeSignalReport(bytes), (e: unknown) => e instanceof SignalReportError && message.test(e.message), what);
  });
});

describe('aggregation', () => {
  it('has p95 from the merged histogram', () => {
    const a = report('a', 'catalog.shop', window(60_000, [...uniform(90, 10), ...uniform(10, 100)], 0), window(6000, [1], 0));
    const b = report('b', 'catalog.shop', window(60_000, uniform(100, 10), 0), window(6000, [1], 0));
    const signals = aggregateSignals('catalog.shop', 'stable', [a, b]);
    // 200 requests, 10 of them at 100 ms: the 95th percentile (rank 190) is the last of the 10 ms ones, the 96th is slow.
    assert.ok(Math.abs(signals.latencyP95Ms - 10) / 10 < 0.05, `p95 ${signals.latencyP95Ms}`);
    assert.equal(signals.latencyP95Ms, latencyPercentile(signals.latency, 95));
    assert.ok(signals.latencyP99Ms > 90);
    assert.equal(aggregateSignals('x.y', 'stable', []).latencyP95Ms, 0);
  });

  it('sums edges per caller → callee over the callee replicas, with rates per window', () => {
    const second = report(
      'catalog-2',
      'catalog.shop',
      window(30_000, uniform(30, 3), 3, { 'frontend.shop': { requests: 30, errors: 3 } }),
      window(6000, uniform(6, 3), 0, { 'frontend.shop': { requests: 6, errors: 0 } }),
    );
    const checkout = report('checkout-1', 'checkout.shop', window(60_000, uniform(60, 3), 0, { 'frontend.shop': { requests: 60, errors: 0 } }), window(6000, [], 0));
    const stable = aggregateEdges('stable', [withSources, second, checkout]);
    assert.deepEqual(
      stable.map((e) => [e.from, e.to, e.requests, e.errors]),
      [
        ['checkout.shop', 'catalog.shop', 10, 0],
        ['frontend.shop', 'catalog.shop', 130, 9],
        ['frontend.shop', 'checkout.shop', 60, 0],
        [OTHER_SOURCE, 'catalog.shop', 2, 0],
      ],
    );
    const frontendToCatalog = stable[1]!;
    // 100 over 60 s plus 30 over the 30 s the second replica has been up.
    assert.ok(Math.abs(frontendToCatalog.rps - (100 / 60 + 1)) < 1e-9);
    assert.ok(Math.abs(frontendToCatalog.errorRate - 9 / 130) < 1e-9);
    const panic = aggregateEdges('panic', [withSources, second, checkout]);
    assert.deepEqual(panic.map((e) => [e.from, e.to, e.requests, e.rps, e.errorRate]), [['frontend.shop', 'catalog.shop', 18, 3, 0]]);
    assert.deepEqual(aggregateEdges('stable', []), []);
  });
});
