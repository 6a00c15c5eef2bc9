import type { Clock, TimerHandle } from './clock.ts';
import { suspicionTimeout } from './config.ts';

/**
 * One member under suspicion. The timer starts at the maximum and shrinks as other members independently confirm
 * the suspicion (Lifeguard), down to the minimum once `k` have; a refutation cancels it. Only the first suspicion
 * from each member counts, so one member repeating itself cannot hurry a death.
 */
export class Suspicion {
  private readonly confirmedBy = new Set<string>();
  private readonly startedAt: number;
  private timer: TimerHandle | undefined;
  private readonly clock: Clock;
  private readonly k: number;
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly onTimeout: (confirmations: number) => void;

  constructor(from: string, k: number, minMs: number, maxMs: number, clock: Clock, onTimeout: (confirmations: number) => void) {
    this.clock = clock;
    this.k = k;
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.onTimeout = onTimeout;
    this.confirmedBy.add(from);
    this.startedAt = clock.now();
    this.arm(k < 1 ? minMs : maxMs);
  }

  get confirmations(): number {
    return this.confirmedBy.size - 1;
  }

  /** Records an independent confirmation; true if it was new (and so worth re-gossiping). */
  confirm(from: string): boolean {
    if (this.confirmations >= this.k || this.confirmedBy.has(from)) return false;
    this.confirmedBy.add(from);
    const elapsed = this.clock.now() - this.startedAt;
    const remaining = suspicionTimeout(this.confirmations, this.k, this.minMs, this.maxMs) - elapsed;
    this.arm(Math.max(0, remaining));
    return true;
  }

  cancel(): void {
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private arm(delayMs: number): void {
    this.cancel();
    this.timer = this.clock.setTimer(delayMs, () => {
      this.timer = undefined;
      this.onTimeout(this.confirmations);
    });
  }
}
