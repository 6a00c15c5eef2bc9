import { LATENCY_BUCKETS, latencyBucket } from '../../../mesh/signals-histogram.ts';
import { MAX_SOURCES, OTHER_SOURCE, SIGNAL_WINDOWS, WINDOW_NAMES, type SignalWindows, type SourceCounts, type WindowSignals } from '../../../mesh/signals-report.ts';

/** One slot per second of the longest window. */
const SLOTS = Math.max(...Object.values(SIGNAL_WINDOWS));
/** Source columns per slot: MAX_SOURCES named callers, then OTHER_SOURCE. */
const SOURCE_COLUMNS = MAX_SOURCES + 1;
const OTHER_COLUMN = MAX_SOURCES;

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
  /** Per slot, requests and errors per caller column (see `sources`). */
  private readonly sourceRequests = new Float64Array(SLOTS * SOURCE_COLUMNS);
  private readonly sourceErrors = new Float64Array(SLOTS * SOURCE_COLUMNS);
  /** Caller → column. A column is reused once its caller has no count left in any slot; until then, new callers go to OTHER. */
  private readonly sources = new Map<string, number>();
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
   * in-flight count is not decremented for it (it can never go negative either way). `source`, the caller's Service
   * when the request named it (already validated; OTHER_SOURCE for an unreadable one), is counted per caller.
   */
  end(nowMs: number, latencyMs: number, error: boolean, started = true, source?: string): void {
    this.advance(nowMs);
    const i = this.slot(nowMs);
    if (started && this.current > 0) this.current--;
    this.requests[i]! += 1;
    if (error) this.errors[i]! += 1;
    this.latency[i * LATENCY_BUCKETS + latencyBucket(latencyMs)]! += 1;
    if (source !== undefined) {
      const cell = i * SOURCE_COLUMNS + this.column(source);
      this.sourceRequests[cell]! += 1;
      if (error) this.sourceErrors[cell]! += 1;
    }
  }

  /** The column of a caller, assigning a free one (or OTHER when all MAX_SOURCES hold counts). */
  private column(source: string): number {
    if (source === OTHER_SOURCE) return OTHER_COLUMN;
    const known = this.sources.get(source);
    if (known !== undefined) return known;
    const used = new Set(this.sources.values());
    let free = -1;
    for (let c = 0; c < MAX_SOURCES && free === -1; c++) if (!used.has(c)) free = c;
    if (free === -1) {
      // Reclaim a column whose caller has no count left in any slot (it stopped calling a window ago).
      for (const [name, c] of this.sources) {
        let total = 0;
        for (let slot = 0; slot < SLOTS; slot++) total += this.sourceRequests[slot * SOURCE_COLUMNS + c]!;
        if (total === 0) {
          this.sources.delete(name);
          free = c;
          break;
        }
      }
    }
    if (free === -1) return OTHER_COLUMN;
    this.sources.set(source, free);
    return free;
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
    const bySource = new Float64Array(SOURCE_COLUMNS * 2);
    for (let s = currentSecond - seconds + 1; s <= currentSecond; s++) {
      const i = index(s);
      if (this.second[i] !== s) continue;
      for (let c = 0; c < SOURCE_COLUMNS; c++) {
        bySource[2 * c]! += this.sourceRequests[i * SOURCE_COLUMNS + c]!;
        bySource[2 * c + 1]! += this.sourceErrors[i * SOURCE_COLUMNS + c]!;
      }
      requests += this.requests[i]!;
      errors += this.errors[i]!;
      area += this.area[i]!;
      if (this.peak[i]! > peak) peak = this.peak[i]!;
      const base = i * LATENCY_BUCKETS;
      for (let b = 0; b < LATENCY_BUCKETS; b++) latency[b]! += this.latency[base + b]!;
    }
    const signals: WindowSignals = { durationMs, requests, errors, concurrency: Math.min(peak, area / durationMs), peakConcurrency: peak, latency };
    const sources: Record<string, SourceCounts> = {};
    const named: Array<[string, number]> = [...this.sources, [OTHER_SOURCE, OTHER_COLUMN]];
    for (const [name, c] of named) if (bySource[2 * c]! > 0) sources[name] = { requests: bySource[2 * c]!, errors: bySource[2 * c + 1]! };
    if (Object.keys(sources).length > 0) signals.sources = sources;
    return signals;
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
      this.sourceRequests.fill(0, i * SOURCE_COLUMNS, (i + 1) * SOURCE_COLUMNS);
      this.sourceErrors.fill(0, i * SOURCE_COLUMNS, (i + 1) * SOURCE_COLUMNS);
    }
    return i;
  }
}

function index(second: number): number {
  return ((second % SLOTS) + SLOTS) % SLOTS;
}
