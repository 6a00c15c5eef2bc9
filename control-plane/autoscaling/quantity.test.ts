import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatQuantity, toMilli } from './quantity.ts';

/**
 * The quantity grammar of k8s.io/apimachinery/pkg/api/resource (quantity.go), decimal-SI part:
 *   <quantity> ::= <signedNumber><suffix>,  <suffix> ::= m | "" | k | M | G | T | P | E  (binary and e-notation unused here)
 * Returns the value in thousandths, exactly.
 */
function parseQuantity(text: string): bigint {
  const match = /^([+-]?)([0-9]+)(m|k|M|G|T|P|E)?$/.exec(text);
  assert.ok(match, `"${text}" is not a canonical decimal-SI quantity`);
  const exponent = { m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 }[match[3] ?? ''] ?? 0;
  const milli = BigInt(match[2]!) * 10n ** BigInt(exponent + 3);
  return match[1] === '-' ? -milli : milli;
}

describe('formatQuantity', () => {
  it('writes fractions in milli-units and whole numbers with the largest SI suffix that keeps them whole', () => {
    const cases: Array<[number, string]> = [
      [0, '0'],
      [-0, '0'],
      [1.25, '1250m'],
      [0.5, '500m'],
      [0.001, '1m'],
      [12, '12'],
      [1, '1'],
      [999, '999'],
      [1000, '1k'],
      [1500, '1500'],
      [2000, '2k'],
      [1_234_000, '1234k'],
      [3e9, '3G'],
      [1e12, '1T'],
      [1e15, '1P'],
      [1e18, '1E'],
      [1e21, '1000E'],
      [12.5e6, '12500k'],
      [1250.5, '1250500m'],
      [-1.25, '-1250m'],
      [-3000, '-3k'],
    ];
    for (const [value, expected] of cases) assert.equal(formatQuantity(value), expected, String(value));
  });

  it('rounds to the nearest thousandth, halves away from zero, ignoring binary noise', () => {
    const cases: Array<[number, string]> = [
      [0.0004, '0'],
      [0.0005, '1m'],
      [0.00049999, '0'],
      [1.0005, '1001m'], // 1.0005 × 1000 is 1000.4999… in binary
      [1.2345, '1235m'],
      [2.0004999, '2'],
      [0.9999, '1'],
      [999.9996, '1k'],
      [-0.0005, '-1m'],
      [0.1 + 0.2, '300m'],
    ];
    for (const [value, expected] of cases) assert.equal(formatQuantity(value), expected, String(value));
  });

  it('handles values past 2^53 thousandths exactly as integers', () => {
    assert.equal(formatQuantity(2 ** 60), `${2n ** 60n}`);
    assert.equal(formatQuantity(Number.MAX_SAFE_INTEGER), '9007199254740991');
    assert.match(formatQuantity(1.7976931348623157e308), /^[0-9]{309}$/);
    assert.equal(toMilli(9.1e15), 9_100_000_000_000_000_000n);
  });

  it('refuses NaN and infinities', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity]) assert.throws(() => formatQuantity(bad), RangeError);
  });

  it('always writes a canonical quantity that parses back to the value rounded to milli-units', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ min: -1e15, max: 1e15, noNaN: true }), fc.integer().map((n) => n / 1000), fc.integer({ min: 0, max: 10 ** 6 }).map((n) => n * 1000)), (value) => {
        const text = formatQuantity(value);
        assert.equal(parseQuantity(text), toMilli(value), `${value} → ${text}`);
        // Within half a thousandth: compared on the fractional part, which a double holds exactly.
        const whole = Math.trunc(value);
        const fraction = Number(toMilli(value) - BigInt(whole) * 1000n) / 1000;
        assert.ok(Math.abs(fraction - (value - whole)) <= 0.0005 + 1e-6, `${value}`);
      }),
      { numRuns: 2000 },
    );
  });
});
