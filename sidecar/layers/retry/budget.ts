import type { RetryBudgetConfig } from './policy.ts';

const BUCKETS = 10;

/**
 * Linkerd's retry budget: over a sliding window, retries may not exceed a share of requests, with a floor of a few
 * retries per second so that a quiet Service can still retry. Retries are allowed while
 *   retriesInWindow < max(minRetriesPerSecond × windowSeconds, ratio × requestsInWindow)
 * (Linkerd/Tower add floor and share; taking the larger is stricter under load and easier to explain).
 *
 * A retry is recorded when it is decided, before its backoff, so retries waiting to run already count and a burst
 * of failures cannot overdraw the budget. One budget per upstream Service per sidecar, shared by its routes.
 *
 * The window is 10 buckets of `windowMs / 10`; it covers the current bucket and the nine before it, so between 90 %
 * and 100 % of `windowMs` of history counts. The clock is injected (`performance.now()` by default).
 */
export class RetryBudget {
  private readonly config: RetryBudgetConfig;
  private readonly now: () => number;
  private readonly bucketMs: number;
  private readonly requestBuckets = new Array<number>(BUCKETS).fill(0);
  private readonly retryBuckets = new Array<number>(BUCKETS).fill(0);
  private requestsInWindow = 0;
  private retriesInWindow = 0;
  /** Index (time / bucketMs) of the current bucket. */
  private epoch: number;
  private retriesTotal = 0;
  private exhaustedTotal = 0;

  constructor(config: RetryBudgetConfig, now: () => number = () => performance.now()) {
    this.config = config;
    this.now = now;
    this.bucketMs = Math.max(1, config.windowMs) / BUCKETS;
    this.epoch = Math.floor(now() / this.bucketMs);
  }

  /** Retries granted since the budget was created. */
  get retries(): number {
    return this.retriesTotal;
  }

  /** Retries wanted but refused because the budget was spent. */
  get budgetExhausted(): number {
    return this.exhaustedTotal;
  }

  /** Counts one original request (not a retry). */
  recordRequest(): void {
    this.advance();
    this.requestBuckets[this.epoch % BUCKETS]! += 1;
    this.requestsInWindow++;
  }

  /** Whether one more retry fits in the budget now. */
  canRetry(): boolean {
    const allowance = this.allowance(); // slides the window first
    return this.retriesInWindow < allowance;
  }

  /** Counts one retry, at the moment it is decided. */
  recordRetry(): void {
    this.advance();
    this.retryBuckets[this.epoch % BUCKETS]! += 1;
    this.retriesInWindow++;
    this.retriesTotal++;
  }

  /** Counts a retry that was wanted but refused. */
  recordExhausted(): void {
    this.exhaustedTotal++;
  }

  /** `canRetry()`, then `recordRetry()` or `recordExhausted()`: the one call the retry layer makes. */
  tryRetry(): boolean {
    if (this.canRetry()) {
      this.recordRetry();
      return true;
    }
    this.recordExhausted();
    return false;
  }

  /** Retries the window allows in total right now. */
  allowance(): number {
    this.advance();
    const { minRetriesPerSecond, windowMs, ratio } = this.config;
    return Math.max((minRetriesPerSecond * windowMs) / 1000, ratio * this.requestsInWindow);
  }

  /** Counts in the current window, for the admin API and tests. */
  window(): { requests: number; retries: number } {
    this.advance();
    return { requests: this.requestsInWindow, retries: this.retriesInWindow };
  }

  /** Empties the buckets that slid out of the window since the last call. */
  private advance(): void {
    const current = Math.floor(this.now() / this.bucketMs);
    if (current <= this.epoch) return;
    const stale = Math.min(current - this.epoch, BUCKETS);
    for (let i = 1; i <= stale; i++) {
      const slot = (this.epoch + i) % BUCKETS;
      this.requestsInWindow -= this.requestBuckets[slot]!;
      this.retriesInWindow -= this.retryBuckets[slot]!;
      this.requestBuckets[slot] = 0;
      this.retryBuckets[slot] = 0;
    }
    this.epoch = current;
  }
}
