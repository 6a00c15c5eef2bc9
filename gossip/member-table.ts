import type { Clock } from './clock.ts';
import { isGone, type MemberRecord } from './member.ts';
import type { MemberState } from './messages.ts';

/**
 * Every member known, this one included, and the order they are probed in. Dead and left members stay while their
 * death spreads and are reaped, after gossip-to-the-dead, when a probe round completes.
 */
export class MemberTable {
  private readonly records = new Map<string, MemberRecord>();
  /** Probe order (memberlist's `nodes`): shuffled when a round completes, new members inserted at random. */
  private order: MemberRecord[] = [];
  private probeIndex = 0;
  private readonly localName: string;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly gossipToTheDeadMs: number;

  constructor(self: MemberRecord, clock: Clock, random: () => number, gossipToTheDeadMs: number) {
    this.localName = self.name;
    this.clock = clock;
    this.random = random;
    this.gossipToTheDeadMs = gossipToTheDeadMs;
    this.records.set(self.name, self);
    this.order.push(self);
  }

  get size(): number {
    return this.records.size;
  }

  get self(): MemberRecord {
    return this.records.get(this.localName) as MemberRecord;
  }

  get(name: string): MemberRecord | undefined {
    return this.records.get(name);
  }

  has(name: string): boolean {
    return this.records.has(name);
  }

  values(): Iterable<MemberRecord> {
    return this.records.values();
  }

  add(name: string, addr: string, incarnation: number, meta: Uint8Array, status: MemberRecord['status']): MemberRecord {
    const record: MemberRecord = { name, addr, incarnation, status, meta, statusChangedAt: this.clock.now(), suspicion: undefined };
    this.records.set(name, record);
    // Insert at a random position so a new member is not always probed last (memberlist does the same).
    const offset = Math.floor(this.random() * (this.order.length + 1));
    this.order.push(record);
    const swap = this.order[offset] as MemberRecord;
    this.order[offset] = record;
    this.order[this.order.length - 1] = swap;
    return record;
  }

  /** The next member in probe order that is neither this one nor gone, starting a new round when one completes. */
  nextProbeTarget(): MemberRecord | undefined {
    let checked = 0;
    while (checked < this.order.length) {
      if (this.probeIndex >= this.order.length) {
        this.resetOrder();
        this.probeIndex = 0;
        checked++;
        continue;
      }
      const member = this.order[this.probeIndex++];
      checked++;
      if (!member || member.name === this.localName || isGone(member.status)) continue;
      return member;
    }
    return undefined;
  }

  /** Up to `k` distinct random members other than this one, by random offsets as memberlist's `kRandomNodes`. */
  randomMembers(k: number, accept: (member: MemberRecord) => boolean): MemberRecord[] {
    const picked: MemberRecord[] = [];
    const n = this.order.length;
    for (let tries = 0; tries < 3 * n && picked.length < k; tries++) {
      const member = this.order[Math.floor(this.random() * n)];
      if (!member || member.name === this.localName || picked.includes(member) || !accept(member)) continue;
      picked.push(member);
    }
    return picked;
  }

  aliveCount(): number {
    let n = 0;
    for (const member of this.records.values()) if (!isGone(member.status)) n++;
    return n;
  }

  states(): MemberState[] {
    return [...this.records.values()].map((m) => ({ name: m.name, addr: m.addr, incarnation: m.incarnation, status: m.status, meta: m.meta }));
  }

  /** Drops members dead for longer than gossip-to-the-dead and reshuffles the probe order. */
  private resetOrder(): void {
    const now = this.clock.now();
    const kept: MemberRecord[] = [];
    for (const member of this.order) {
      if (isGone(member.status) && now - member.statusChangedAt > this.gossipToTheDeadMs) {
        this.records.delete(member.name);
      } else {
        kept.push(member);
      }
    }
    for (let i = kept.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const swap = kept[i] as MemberRecord;
      kept[i] = kept[j] as MemberRecord;
      kept[j] = swap;
    }
    this.order = kept;
  }
}
