interface ScheduledEvent {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Discrete-event time: a binary heap of callbacks ordered by due time, then by the order they were scheduled. */
export class EventScheduler {
  private heap: ScheduledEvent[] = [];
  private seq = 0;
  private time = 0;
  executed = 0;

  get now(): number {
    return this.time;
  }

  schedule(at: number, fn: () => void): ScheduledEvent {
    const event: ScheduledEvent = { at: Math.max(at, this.time), seq: this.seq++, fn, cancelled: false };
    this.push(event);
    return event;
  }

  /** Runs events in order until none is due at or before `until`; time then stands at `until`. */
  runUntil(until: number): void {
    for (;;) {
      const next = this.heap[0];
      if (!next || next.at > until) break;
      this.pop();
      if (next.cancelled) continue;
      this.time = next.at;
      this.executed++;
      next.fn();
    }
    this.time = Math.max(this.time, until);
  }

  private push(event: ScheduledEvent): void {
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(event, heap[parent] as ScheduledEvent)) break;
      heap[i] = heap[parent] as ScheduledEvent;
      i = parent;
    }
    heap[i] = event;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (!last || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right] as ScheduledEvent, heap[left] as ScheduledEvent) ? right : left;
      if (!before(heap[child] as ScheduledEvent, last)) break;
      heap[i] = heap[child] as ScheduledEvent;
      i = child;
    }
    heap[i] = last;
  }
}

function before(a: ScheduledEvent, b: ScheduledEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export type { ScheduledEvent };
