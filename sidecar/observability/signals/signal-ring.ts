import { LATENCY_BUCKETS, latencyBucket } from '../../../mesh/signals-histogram.ts';
import { SIGNAL_WINDOWS, WINDOW_NAMES, type SignalWindows, type WindowSignals } from '../../../mesh/signals-report.ts';

/** One slot per second of the longest window. */
const SLOTS = Math.max(...Object.values(SIGNAL_WINDOWS));

/**
 * A per-second ring of the local workload's inbound traffic: per second, requests, errors, the area under the
 * in-flight curve (request·ms, so the time-weighted average concurrency is area ÷ time, as Knative computes it), the
 * peak in flight and a latency histogram. Windows are computed on demand from the last N slots. O(1) per request
 * (one log for the latency bucket); about 70 KiB of typed arrays, allocated once.
 *
 * A window of N seconds is the current second so far plus the N − 1 before it; rates divide by the time that
 * covers, or by the time since the ring started if that is shorter (at least one second, so the first requests of a
 * new replica do not read as a burst). Time is whatever monotonic millisecond clock the caller passes in.
 */
export class SignalRing {
  private readonly second = new Float64Array(SLOTS).fill(Number.NaN);
  private readonly requests = new Float64Array(SLOTS);
  private readonly errors = new Float64Array(SLOTS);
  private readonly area = new Float64Array(SLOTS);
  private readonly peak = new Float64Array(SLOTS);
  private readonly latency = new Float64Array(SLOTS * LATENCY_BUCKETS);
  private readonly startedAt: number;
  /** Time up to which the in-flight area has been accounted. */
  private accountedTo: number;
  private current = 0;

  constructor(startedAtMs: number) {
    this.startedAt = startedAtMs;
    this.accountedTo = startedAtMs;
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.current;
  }

  /** A request entered. */
  start(nowMs: number): void {
    this.advance(nowMs);
    this.current++;
    const i = this.slot(nowMs);
    if (this.current > this.peak[i]!) this.peak[i] = this.current;
  }

  /**
   * A request finished after `latencyMs`. `started` is false for a request whose start was never seen, so the
   * in-flight count is not decremented for it (it can never go negative either way).
   */
  end(nowMs: number, latencyMs: number, error: boolean, started = true): void {
    this.advance(nowMs);
    const i = this.slot(nowMs);
    if (started && this.current > 0) this.current--;
    this.requests[i]! += 1;
    if (error) this.errors[i]! += 1;
    this.latency[i * LATENCY_BUCKETS + latencyBucket(latencyMs)]! += 1;
  }

  /** Both windows as of `nowMs`. */
  windows(nowMs: number): SignalWindows {
    this.advance(nowMs);
    const result = {} as SignalWindows;
    for (const name of WINDOW_NAMES) result[name] = this.window(nowMs, SIGNAL_WINDOWS[name]);
    return result;
  }

  private window(nowMs: number, seconds: number): WindowSignals {
    const now = Math.max(nowMs, this.accountedTo);
    const currentSecond = Math.floor(now / 1000);
    const nominal = (seconds - 1) * 1000 + (now - currentSecond * 1000);
    const durationMs = Math.max(1000, Math.min(nominal, now - this.startedAt));
    const latency = new Float64Array(LATENCY_BUCKETS);
    let requests = 0;
    let errors = 0;
    let area = 0;
    let peak = 0;
    for (let s = currentSecond - seconds + 1; s <= currentSecond; s++) {
      const i = index(s);
      if (this.second[i] !== s) continue;
      requests += this.requests[i]!;
      errors += this.errors[i]!;
      area += this.area[i]!;
      if (this.peak[i]! > peak) peak = this.peak[i]!;
      const base = i * LATENCY_BUCKETS;
      for (let b = 0; b < LATENCY_BUCKETS; b++) latency[b]! += this.latency[base + b]!;
    }
    return { durationMs, requests, errors, concurrency: Math.min(peak, area / durationMs), peakConcurrency: peak, latency };
  }

  /** Adds in-flight × elapsed to each second between the last event and `t` (at most the ring's length of them). */
  private advance(t: number): void {
    if (!(t > this.accountedTo)) return;
    if (this.current > 0) {
      let from = Math.max(this.accountedTo, (Math.floor(t / 1000) - SLOTS + 1) * 1000);
      while (from < t) {
        const second = Math.floor(from / 1000);
        const to = Math.min(t, (second + 1) * 1000);
        const i = this.slot(from);
        this.area[i]! += this.current * (to - from);
        if (this.current > this.peak[i]!) this.peak[i] = this.current;
        from = to;
      }
    }
    this.accountedTo = t;
  }

  /** The slot for the second holding `t`, cleared first if it still holds an older second. */
  private slot(t: number): number {
    const second = Math.floor(t / 1000);
    const i = index(second);
    if (this.second[i] !== second) {
      this.second[i] = second;
      this.requests[i] = 0;
      this.errors[i] = 0;
      this.area[i] = 0;
      // Requests still in flight from the previous second are in flight in this one too.
      this.peak[i] = this.current;
      this.latency.fill(0, i * LATENCY_BUCKETS, (i + 1) * LATENCY_BUCKETS);
    }
    return i;
  }
}

function index(second: number): number {
  return ((second % SLOTS) + SLOTS) % SLOTS;
}
