interface Broadcast {
  /** Member the message is about: a newer message about the same member replaces the queued one. */
  readonly about: string;
  readonly bytes: Uint8Array;
  readonly id: number;
  transmits: number;
  readonly onDone: (() => void) | undefined;
}

/**
 * Messages waiting to be piggybacked or gossiped, each sent a limited number of times (memberlist:
 * `mult · ceil(log10(n + 1))`). The least-sent go
 * first (new news spreads fastest), newest first among equals. The queue is bounded: beyond `maxLength` the
 * most-sent broadcasts are dropped, since they have already reached most of the cluster.
 */
export class BroadcastQueue {
  private readonly byMember = new Map<string, Broadcast>();
  private nextId = 0;
  private readonly maxLength: number;
  private readonly transmitLimit: () => number;
  dropped = 0;

  /** `transmitLimit` is read on every take, as it follows the cluster size (and, through the failure detector, observed loss). */
  constructor(maxLength: number, transmitLimit: () => number) {
    this.maxLength = maxLength;
    this.transmitLimit = transmitLimit;
  }

  get length(): number {
    return this.byMember.size;
  }

  /** Queues `bytes`; `onDone` runs when the message has been sent its full count, or is replaced or dropped. */
  enqueue(about: string, bytes: Uint8Array, onDone?: () => void): void {
    const previous = this.byMember.get(about);
    if (previous) {
      this.byMember.delete(about);
      previous.onDone?.();
    }
    this.byMember.set(about, { about, bytes, id: this.nextId++, transmits: 0, onDone });
    if (this.byMember.size > this.maxLength) this.prune();
  }

  /** Takes messages fitting in `limit` bytes when each costs its length plus `overheadPerMessage`, counting a transmit for each. */
  take(overheadPerMessage: number, limit: number): Uint8Array[] {
    if (this.byMember.size === 0) return [];
    const transmitLimit = this.transmitLimit();
    const ordered = [...this.byMember.values()].sort((a, b) => a.transmits - b.transmits || b.id - a.id);
    const taken: Uint8Array[] = [];
    let used = 0;
    for (const broadcast of ordered) {
      const cost = broadcast.bytes.length + overheadPerMessage;
      if (used + cost > limit) continue;
      used += cost;
      taken.push(broadcast.bytes);
      broadcast.transmits++;
      if (broadcast.transmits >= transmitLimit) {
        this.byMember.delete(broadcast.about);
        broadcast.onDone?.();
      }
      if (limit - used < overheadPerMessage + 8) break;
    }
    return taken;
  }

  clear(): void {
    for (const broadcast of this.byMember.values()) broadcast.onDone?.();
    this.byMember.clear();
  }

  private prune(): void {
    const ordered = [...this.byMember.values()].sort((a, b) => b.transmits - a.transmits || a.id - b.id);
    for (const broadcast of ordered.slice(0, this.byMember.size - this.maxLength)) {
      this.byMember.delete(broadcast.about);
      this.dropped++;
      broadcast.onDone?.();
    }
  }
}
