import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { latencyBucket, newLatencyCounts } from '../../../mesh/signals-histogram.ts';
import { SIGNAL_WINDOWS, WINDOW_NAMES } from '../../../mesh/signals-report.ts';
import { SignalRing } from './signal-ring.ts';

describe('SignalRing on synthetic time', () => {
  it('measures a steady 10 requests/s of 50 ms each: rate 10, average concurrency 0.5, in both windows', () => {
    const ring = new SignalRing(0);
    for (let t = 0; t < 120_000; t += 100) {
      ring.start(t);
      ring.end(t + 50, 50, false);
    }
    const { stable, panic } = ring.windows(120_000);
    // At a second boundary a window is its N − 1 whole seconds (the current one has just begun).
    assert.equal(stable.durationMs, 59_000);
    assert.equal(stable.requests, 590);
    assert.equal(stable.requests / (stable.durationMs / 1000), 10);
    assert.equal(stable.concurrency, 0.5);
    assert.equal(stable.peakConcurrency, 1);
    assert.equal(panic.durationMs, 5_000);
    assert.equal(panic.requests / (panic.durationMs / 1000), 10);
    assert.equal(panic.concurrency, 0.5);
    assert.equal(panic.latency[latencyBucket(50)], panic.requests);
    assert.equal(ring.inFlight, 0);
  });

  it('weights concurrency by time: 4 requests overlapping for 250 ms are 1000 request·ms of area, peak 4', () => {
    const ring = new SignalRing(0);
    for (let i = 0; i < 4; i++) ring.start(100_000 + i);
    for (let i = 0; i < 4; i++) ring.end(100_250 + i, 250, false);
    const { panic } = ring.windows(104_000.5);
    // Window: seconds 99..104, 5000.5 ms.
    assert.equal(panic.durationMs, 5000.5);
    assert.equal(panic.peakConcurrency, 4);
    assert.ok(Math.abs(panic.concurrency - 1000 / 5000.5) < 1e-12);
  });

  it('forgets traffic once it leaves the window: after 6 s for panic, 60 s for stable', () => {
    const ring = new SignalRing(0);
    for (let t = 10_000; t < 11_000; t += 10) {
      ring.start(t);
      ring.end(t + 1, 1, t % 20 === 0);
    }
    assert.equal(ring.windows(15_999).panic.requests, 100);
    assert.equal(ring.windows(15_999).panic.errors, 50);
    assert.equal(ring.windows(16_000).panic.requests, 0);
    assert.equal(ring.windows(16_000).stable.requests, 100);
    assert.equal(ring.windows(69_999).stable.requests, 100);
    const late = ring.windows(70_000).stable;
    assert.equal(late.requests, 0);
    assert.deepEqual(late.latency, newLatencyCounts());
  });

  it('counts a request in flight across a long quiet stretch as concurrency 1 throughout', () => {
    const ring = new SignalRing(0);
    ring.start(500);
    const { stable, panic } = ring.windows(200_000);
    assert.equal(stable.concurrency, 1);
    assert.equal(panic.concurrency, 1);
    assert.equal(stable.peakConcurrency, 1);
    assert.equal(stable.requests, 0);
    ring.end(200_100, 199_600, false);
    assert.equal(ring.windows(201_000).panic.requests, 1);
    assert.equal(ring.windows(201_000).panic.latency[latencyBucket(199_600)], 1);
  });

  it('divides by the time since start while the ring is younger than the window (at least 1 s)', () => {
    const ring = new SignalRing(100_000);
    for (let t = 100_000; t < 102_000; t += 100) {
      ring.start(t);
      ring.end(t + 10, 10, false);
    }
    const { stable, panic } = ring.windows(102_000);
    assert.equal(stable.durationMs, 2000);
    assert.equal(panic.durationMs, 2000);
    assert.equal(stable.requests / (stable.durationMs / 1000), 10);
    assert.equal(new SignalRing(0).windows(10).stable.durationMs, 1000);
  });

  it('never lets in-flight go negative, and counts a request whose start it never saw', () => {
    const ring = new SignalRing(0);
    ring.end(1000, 5, true, false);
    ring.end(1001, 5, false);
    assert.equal(ring.inFlight, 0);
    assert.deepEqual([ring.windows(1002).panic.requests, ring.windows(1002).panic.errors], [2, 1]);
  });

  it('tolerates a clock that steps back', () => {
    const ring = new SignalRing(0);
    ring.start(5000);
    ring.end(4000, 1, false);
    const { panic } = ring.windows(3000);
    assert.equal(ring.inFlight, 0);
    assert.ok(Number.isFinite(panic.concurrency) && panic.concurrency >= 0);
  });

  it('agrees with a brute-force computation over random traffic', () => {
    interface Req {
      start: number;
      end: number;
      error: boolean;
    }
    const traffic = fc.record({
      startedAt: fc.integer({ min: 0, max: 100_000 }),
      requests: fc.array(fc.record({ offset: fc.double({ min: 0, max: 150_000, noNaN: true }), length: fc.double({ min: 0.01, max: 20_000, noNaN: true }), error: fc.boolean() }), { maxLength: 150 }),
      nowOffset: fc.double({ min: 0, max: 160_000, noNaN: true }),
    });
    fc.assert(
      fc.property(traffic, ({ startedAt, requests, nowOffset }) => {
        const now = startedAt + nowOffset;
        const reqs: Req[] = requests.map((r) => ({ start: startedAt + r.offset, end: startedAt + r.offset + r.length, error: r.error }));
        const events = reqs
          .flatMap((r) => [{ t: r.start, kind: 'start' as const, r }, { t: r.end, kind: 'end' as const, r }])
          .filter((e) => e.t <= now)
          .sort((a, b) => a.t - b.t || (a.kind === 'end' ? -1 : 1));
        const ring = new SignalRing(startedAt);
        for (const e of events) {
          if (e.kind === 'start') ring.start(e.t);
          else ring.end(e.t, e.r.end - e.r.start, e.r.error);
        }
        const windows = ring.windows(now);
        for (const name of WINDOW_NAMES) {
          const seconds = SIGNAL_WINDOWS[name];
          const from = (Math.floor(now / 1000) - seconds + 1) * 1000;
          const duration = Math.max(1000, Math.min((seconds - 1) * 1000 + (now - Math.floor(now / 1000) * 1000), now - startedAt));
          const ended = reqs.filter((r) => r.end >= from && r.end <= now);
          const area = reqs.reduce((sum, r) => sum + Math.max(0, Math.min(r.end, now) - Math.max(r.start, from)), 0);
          const inFlightAt = (t: number): number => reqs.filter((r) => r.start <= t && r.end > t).length;
          const peak = Math.max(inFlightAt(from), ...reqs.filter((r) => r.start >= from && r.start <= now).map((r) => inFlightAt(r.start)));
          const latency = newLatencyCounts();
          for (const r of ended) latency[latencyBucket(r.end - r.start)]! += 1;
          const w = windows[name];
          assert.equal(w.durationMs, duration, name);
          assert.equal(w.requests, ended.length, `${name} requests`);
          assert.equal(w.errors, ended.filter((r) => r.error).length, `${name} errors`);
          assert.equal(w.peakConcurrency, peak, `${name} peak`);
          assert.ok(Math.abs(w.concurrency - area / duration) < 1e-6, `${name} concurrency ${w.concurrency} vs ${area / duration}`);
          assert.deepEqual(w.latency, latency, `${name} latency`);
        }
      }),
      { numRuns: 300 },
    );
  });
});
