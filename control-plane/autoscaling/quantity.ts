/**
 * Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource), as external metric values are written:
 * milli precision, in the canonical decimal-SI form Go's `resource.NewMilliQuantity(v, DecimalSI).String()` gives.
 *
 *   1.25 → "1250m"   12 → "12"   1500 → "1500"   2000 → "2k"   3e9 → "3G"   0.0004 → "0"
 *
 * A fraction is written in milli-units; a whole number with the largest SI suffix (k, M, G, T, P, E) that leaves
 * an integer. Halves round away from zero after the value is cleaned of binary noise, so 1.0005 is "1001m" even
 * though 1.0005 × 1000 is 1000.4999… in floating point.
 */

const SUFFIXES = ['', 'k', 'M', 'G', 'T', 'P', 'E'] as const;

export function formatQuantity(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`a quantity must be finite, not ${value}`);
  const milli = toMilli(value);
  if (milli === 0n) return '0';
  const sign = milli < 0n ? '-' : '';
  const magnitude = milli < 0n ? -milli : milli;
  if (magnitude % 1000n !== 0n) return `${sign}${magnitude}m`;
  let whole = magnitude / 1000n;
  let suffix = 0;
  while (suffix < SUFFIXES.length - 1 && whole % 1000n === 0n) {
    whole /= 1000n;
    suffix++;
  }
  return `${sign}${whole}${SUFFIXES[suffix]}`;
}

/** The value in thousandths, rounded half away from zero, as the HPA reads a quantity (`MilliValue()`). Exact at any size. */
export function toMilli(value: number): bigint {
  // Integer and fractional parts are both exact in binary; only the fraction needs scaling and rounding.
  const whole = Math.trunc(value);
  const fraction = Math.abs(value - whole) * 1000;
  const floor = Math.floor(fraction);
  // A fraction a few ulps short of one half is a half that binary could not hold (1.0005 is 1.000499999…).
  const slack = Math.min(4 * Number.EPSILON * (Math.abs(value) + 1) * 1000, 0.001);
  const milli = BigInt(fraction - floor >= 0.5 - slack ? floor + 1 : floor);
  return BigInt(whole) * 1000n + (value < 0 ? -milli : milli);
}

/** toMilli as a number, for the HPA arithmetic (exact below 2^53). */
export function milliValue(value: number): number {
  return Number(toMilli(value));
}
