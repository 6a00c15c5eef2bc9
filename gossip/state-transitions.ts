import { MAX_META_BYTES } from './codec.ts';
import { suspicionBounds } from './config.ts';
import type { MemberContext } from './member-context.ts';
import { isGone, sameBytes, type MemberRecord, type MembershipEvent } from './member.ts';
import type { AliveMessage, DeadMessage, SuspectMessage } from './messages.ts';
import { Suspicion } from './suspicion.ts';

export type EmitMembershipEvent = (type: MembershipEvent['type'], member: MemberRecord) => void;

/**
 * How alive, suspect and dead messages change the member table (memberlist's aliveNode, suspectNode, deadNode),
 * whether they come from a packet, a push/pull or this member's own probes. Whatever changes is queued for
 * broadcast; accusations against this member are refuted.
 */
export class StateTransitions {
  private readonly ctx: MemberContext;
  private readonly emit: EmitMembershipEvent;

  constructor(ctx: MemberContext, emit: EmitMembershipEvent) {
    this.ctx = ctx;
    this.emit = emit;
  }

  aliveNode(message: AliveMessage): void {
    const { members, queue, wire } = this.ctx;
    if (message.meta.length > MAX_META_BYTES) return;
    const member = members.get(message.name);
    if (!member) {
      if (this.ctx.leaving) return;
      this.ctx.failed.delete(message.name);
      const added = members.add(message.name, message.addr, message.incarnation, message.meta, 'alive');
      queue.enqueue(message.name, wire.encodePacket(message));
      this.emit('join', added);
      return;
    }
    if (member.name === this.ctx.name) {
      // Someone claims something about us at our incarnation or above: out-shout it, unless it is what we said.
      if (message.incarnation < member.incarnation) return;
      if (message.incarnation === member.incarnation && sameBytes(message.meta, member.meta) && message.addr === member.addr) return;
      if (!this.ctx.leaving) this.refute(message.incarnation);
      return;
    }
    if (message.incarnation <= member.incarnation) return;
    member.suspicion?.cancel();
    member.suspicion = undefined;
    this.ctx.failed.delete(member.name);
    const wasGone = isGone(member.status);
    const changed = member.status !== 'alive' || member.addr !== message.addr || !sameBytes(member.meta, message.meta);
    if (member.status !== 'alive') member.statusChangedAt = this.ctx.clock.now();
    member.status = 'alive';
    member.incarnation = message.incarnation;
    member.addr = message.addr;
    member.meta = message.meta;
    queue.enqueue(member.name, wire.encodePacket(message));
    if (wasGone) this.emit('join', member);
    else if (changed) this.emit('update', member);
  }

  suspectNode(message: SuspectMessage): void {
    const { config, members, queue, wire } = this.ctx;
    const member = members.get(message.name);
    if (!member || message.incarnation < member.incarnation) return;
    if (member.suspicion) {
      if (member.suspicion.confirm(message.from)) queue.enqueue(member.name, wire.encodePacket(message));
      return;
    }
    if (member.status !== 'alive') return;
    if (member.name === this.ctx.name) {
      if (!this.ctx.leaving) this.refute(message.incarnation);
      return;
    }
    this.ctx.stats.suspicionsRaised++;
    queue.enqueue(member.name, wire.encodePacket(message));
    member.incarnation = message.incarnation;
    member.status = 'suspect';
    member.statusChangedAt = this.ctx.clock.now();
    const n = members.aliveCount();
    // Lifeguard: expect k = mult − 2 independent confirmations, unless the cluster is too small to give them.
    let k = config.suspicionMult - 2;
    if (n - 2 < k) k = 0;
    const { minMs, maxMs } = suspicionBounds(config, n);
    const incarnation = message.incarnation;
    member.suspicion = new Suspicion(message.from, k, minMs, maxMs, this.ctx.clock, () => {
      if (this.ctx.closed || member.status !== 'suspect' || member.incarnation !== incarnation) return;
      this.deadNode({ type: 'dead', name: member.name, incarnation, from: this.ctx.name });
    });
    this.emit('update', member);
  }

  deadNode(message: DeadMessage, onSent?: () => void): void {
    const member = this.ctx.members.get(message.name);
    if (!member || message.incarnation < member.incarnation || isGone(member.status)) return;
    if (member.name === this.ctx.name && !this.ctx.leaving) {
      this.refute(message.incarnation);
      return;
    }
    member.suspicion?.cancel();
    member.suspicion = undefined;
    this.ctx.queue.enqueue(member.name, this.ctx.wire.encodePacket(message), onSent);
    member.incarnation = message.incarnation;
    member.status = message.from === message.name ? 'left' : 'dead';
    member.statusChangedAt = this.ctx.clock.now();
    if (member.status === 'dead') {
      this.ctx.stats.membersDeclaredDead++;
      this.ctx.failed.set(member.name, { addr: member.addr, since: member.statusChangedAt });
    } else {
      this.ctx.failed.delete(member.name);
    }
    this.emit('leave', member);
  }

  broadcastAlive(self: MemberRecord): void {
    const alive: AliveMessage = { type: 'alive', name: self.name, addr: self.addr, incarnation: self.incarnation, meta: self.meta };
    this.ctx.queue.enqueue(self.name, this.ctx.wire.encodePacket(alive));
  }

  /** Answers an accusation against this member with an incarnation above it; being accused also lowers local health. */
  private refute(accusedIncarnation: number): void {
    const self = this.ctx.members.self;
    self.incarnation = Math.max(self.incarnation, accusedIncarnation) + 1;
    this.ctx.stats.refutations++;
    this.ctx.awareness.applyDelta(1);
    this.broadcastAlive(self);
  }
}
