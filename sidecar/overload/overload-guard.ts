import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

export interface OverloadThresholds {
  /** Shed while the event loop's p99 delay over the last interval exceeds this; 0 turns the check off. */
  maxEventLoopDelayMs: number;
  /** Shed while the V8 heap uses more than this share of its limit; 0 turns the check off. */
  maxHeapFraction: number;
}

export const DEFAULT_OVERLOAD_THRESHOLDS: OverloadThresholds = { maxEventLoopDelayMs: 500, maxHeapFraction: 0.9 };

export interface OverloadSample {
  eventLoopDelayMs: number;
  heapFraction: number;
}

/** Whether a sample is over a threshold, and which: the reason shed replies and the log give. */
export function overloadReason(sample: OverloadSample, thresholds: OverloadThresholds): string | undefined {
  if (thresholds.maxEventLoopDelayMs > 0 && sample.eventLoopDelayMs > thresholds.maxEventLoopDelayMs) {
    return `event loop delay p99 ${sample.eventLoopDelayMs.toFixed(0)} ms > ${thresholds.maxEventLoopDelayMs} ms`;
  }
  if (thresholds.maxHeapFraction > 0 && sample.heapFraction > thresholds.maxHeapFraction) {
    return `heap at ${(sample.heapFraction * 100).toFixed(0)} % of its limit > ${(thresholds.maxHeapFraction * 100).toFixed(0)} %`;
  }
  return undefined;
}

/**
 * Envoy's overload manager, small: every `intervalMs` it samples the event loop's delay and the heap, and while either
 * is over its threshold the listeners answer new requests 503 (flag OM) at once instead of queueing them behind a
 * loop that cannot keep up or a heap about to fail. The check on the request path is one field read.
 */
export class OverloadGuard {
  shedding: string | undefined;
  shed = 0;
  private readonly histogram: ELDHistogram;
  private readonly timer: NodeJS.Timeout;
  private readonly heapLimit = getHeapStatistics().heap_size_limit;

  constructor(thresholds: OverloadThresholds, onChange: (reason: string | undefined) => void, intervalMs = 250) {
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
    this.timer = setInterval(() => {
      const sample = { eventLoopDelayMs: this.histogram.percentile(99) / 1e6, heapFraction: process.memoryUsage().heapUsed / this.heapLimit };
      this.histogram.reset();
      const reason = overloadReason(sample, thresholds);
      if (reason !== this.shedding) onChange(reason);
      this.shedding = reason;
    }, intervalMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}
