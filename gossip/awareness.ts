/**
 * Lifeguard's local health awareness: a score from 0 (healthy) to max − 1 that rises when this member misses acks
 * its peers would have answered (so the fault is probably local: a stalled event loop, a saturated CPU) and falls
 * with each successful probe. Timeouts are scaled by `score + 1`, so a slow member probes less eagerly and gives
 * others more time before it suspects them.
 */
export class Awareness {
  private current = 0;
  private readonly max: number;

  constructor(maxMultiplier: number) {
    this.max = Math.max(1, maxMultiplier);
  }

  get score(): number {
    return this.current;
  }

  applyDelta(delta: number): void {
    this.current = Math.min(this.max - 1, Math.max(0, this.current + delta));
  }

  scale(timeoutMs: number): number {
    return timeoutMs * (this.current + 1);
  }
}
