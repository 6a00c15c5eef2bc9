import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LATENCY_BUCKETS, newLatencyCounts, recordLatency } from './signals-histogram.ts';
import { decodeSignalReport, encodeSignalReport, MAX_REPORT_BYTES, SignalReportError, type SignalReport, type WindowSignals } from './signals-report.ts';

function window(durationMs: number, latencies: number[], errors = 0, concurrency = 1.5, peak = 3): WindowSignals {
  const latency = newLatencyCounts();
  for (const ms of latencies) recordLatency(latency, ms);
  return { durationMs, requests: latencies.length, errors, concurrency, peakConcurrency: peak, latency };
}

const report: SignalReport = {
  service: 'checkout.shop',
  member: 'checkout-1',
  at: 1_764_237_600_000,
  intervalMs: 2000,
  windows: { stable: window(60_000, [1, 2, 3, 250], 1), panic: window(6000, [2, 3]) },
};

const encoder = new TextEncoder();

/** The wire form, loosely typed so tests can break it anywhere. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

function wire(patch: (w: Loose) => void): Uint8Array {
  const value = JSON.parse(new TextDecoder().decode(encodeSignalReport(report))) as Loose;
  patch(value);
  return encoder.encode(JSON.stringify(value));
}

describe('signal report codec', () => {
  it('round-trips', () => {
    const bytes = encodeSignalReport(report);
    assert.deepEqual(decodeSignalReport(bytes), report);
    assert.ok(bytes.length < 400, `${bytes.length} bytes`);
  });

  it('stays under its size bound in the worst case: every bucket used, huge counts, longest names', () => {
    const full = (): WindowSignals => {
      const latency = newLatencyCounts().fill(2 ** 40);
      return { durationMs: 6000, requests: LATENCY_BUCKETS * 2 ** 40, errors: 12345678901, concurrency: 123456.123456, peakConcurrency: 999_999_999, latency };
    };
    const worst: SignalReport = {
      service: `${'a'.repeat(63)}.${'b'.repeat(63)}`,
      member: 'm'.repeat(255),
      at: Number.MAX_SAFE_INTEGER,
      intervalMs: 60_000,
      windows: { stable: full(), panic: full() },
    };
    const bytes = encodeSignalReport(worst);
    assert.ok(bytes.length <= MAX_REPORT_BYTES / 2, `${bytes.length} bytes`);
  });

  it('refuses, with a reason, anything that is not exactly a report', () => {
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['not JSON', encoder.encode('{'), /not UTF-8 JSON/],
      ['bad UTF-8', new Uint8Array([0x7b, 0xff, 0x7d]), /not UTF-8 JSON/],
      ['an array', encoder.encode('[]'), /report must be an object/],
      ['too large', new Uint8Array(MAX_REPORT_BYTES + 1), /exceeds/],
      ['unknown field', wire((w) => (w['extra'] = 1)), /unknown field "extra"/],
      ['missing field', wire((w) => delete w['member']), /lacks "member"/],
      ['other version', wire((w) => (w['v'] = 2)), /version 2/],
      ['bad service', wire((w) => (w['service'] = 'Checkout')), /service must be/],
      ['service without namespace', wire((w) => (w['service'] = 'checkout')), /service must be/],
      ['empty member', wire((w) => (w['member'] = '')), /member must be/],
      ['member with a newline', wire((w) => (w['member'] = 'a\nb')), /member must be/],
      ['interval too short', wire((w) => (w['interval'] = 10)), /interval must be/],
      ['fractional at', wire((w) => (w['at'] = 1.5)), /at must be/],
      ['a third window', wire((w) => (w['windows']['burst'] = w['windows']['panic'])), /unknown field "burst"/],
      ['window longer than nominal', wire((w) => (w['windows']['panic']['ms'] = 6001)), /panic\.ms/],
      ['zero duration', wire((w) => (w['windows']['panic']['ms'] = 0)), /panic\.ms must be above 0/],
      ['negative requests', wire((w) => (w['windows']['stable']['requests'] = -1)), /requests must be/],
      ['requests as a string', wire((w) => (w['windows']['stable']['requests'] = '4')), /requests must be/],
      ['more errors than requests', wire((w) => (w['windows']['stable']['errors'] = 5)), /errors must be/],
      ['average above peak', wire((w) => (w['windows']['stable']['concurrency'] = 4)), /concurrency must be/],
      ['histogram not matching requests', wire((w) => (w['windows']['stable']['requests'] = 3)), /latency counts 4 requests, not 3/],
      ['bad histogram', wire((w) => (w['windows']['stable']['latency'] = [1, 0])), /latency bucket count/],
    ];
    for (const [what, bytes, message] of cases) {
      assert.throws(() => decodeSignalReport(bytes), (error: unknown) => error instanceof SignalReportError && message.test(error.message), what);
    }
  });

  it('never throws anything but SignalReportError, whatever the bytes', () => {
    const check = (bytes: Uint8Array): void => {
      try {
        decodeSignalReport(bytes);
      } catch (error) {
        assert.ok(error instanceof SignalReportError, String(error));
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), check), { numRuns: 500 });
    fc.assert(fc.property(fc.jsonValue(), (value) => check(encoder.encode(JSON.stringify(value)))), { numRuns: 500 });
    // Valid reports with one field replaced by arbitrary JSON.
    const fields = ['v', 'service', 'member', 'at', 'interval', 'windows'];
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.constantFrom('stable', 'panic', ''), fc.jsonValue(), (field, windowName, value) => {
        check(
          wire((w) => {
            if (windowName === '') w[field] = value;
            else w['windows'][windowName][['ms', 'requests', 'errors', 'concurrency', 'peak', 'latency'][fields.indexOf(field)]!] = value;
          }),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('refuses to encode a report it would refuse to decode', () => {
    assert.throws(() => encodeSignalReport({ ...report, service: 'no namespace' }), SignalReportError);
  });
});
