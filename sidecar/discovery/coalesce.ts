/**
 * Batches bursts of changes into one run: the first change arms a timer of `delayMs`, changes until it fires ride
 * along. Unlike a debounce that restarts on every change, steady churn (a large cluster where some member is always
 * flapping) can never postpone the run: what it sees is at most `delayMs` stale.
 */
export interface Coalescer {
  trigger(): void;
  cancel(): void;
}

export function coalesce(delayMs: number, run: () => void): Coalescer {
  let timer: NodeJS.Timeout | undefined;
  return {
    trigger() {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        run();
      }, delayMs);
      timer.unref();
    },
    cancel() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
