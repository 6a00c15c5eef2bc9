/** Time and timers for state machines, injectable so tests drive them on a fake clock. */
export interface Scheduler {
  /** Monotonic milliseconds. */
  now(): number;
  /** Runs `callback` once after `ms`; the returned function cancels it. Timers never keep the process alive. */
  after(ms: number, callback: () => void): () => void;
}

export const systemScheduler: Scheduler = {
  now: () => performance.now(),
  after(ms, callback) {
    // Looked up at call time, not import time, so node:test's mock timers can stand in for it.
    const timer = setTimeout(callback, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
