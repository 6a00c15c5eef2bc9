import { COMPOUND_OVERHEAD, compoundPartOverhead, encodeCompound } from './codec.ts';
import type { MemberContext } from './member-context.ts';
import { isGone } from './member.ts';
import type { PacketMessage } from './messages.ts';

/** Sends packets with queued broadcasts piggybacked on them, and each gossip round sends what is queued to a few random members. */
export class PacketSender {
  private readonly ctx: MemberContext;

  constructor(ctx: MemberContext) {
    this.ctx = ctx;
  }

  /** Sends one message, filling the rest of the packet with queued broadcasts. */
  send(addr: string, message: PacketMessage, extra: PacketMessage[] = []): void {
    const { config, wire, queue } = this.ctx;
    const parts = [wire.encodePacket(message), ...extra.map((m) => wire.encodePacket(m))];
    const partOverhead = compoundPartOverhead(config.udpBufferSize);
    let used = COMPOUND_OVERHEAD + wire.overhead;
    for (const part of parts) used += part.length + partOverhead;
    parts.push(...queue.take(partOverhead, config.udpBufferSize - used));
    this.sendRaw(addr, parts.length === 1 ? (parts[0] as Uint8Array) : encodeCompound(parts));
  }

  gossip(): void {
    const { config, wire, queue } = this.ctx;
    if (queue.length === 0) return;
    const now = this.ctx.clock.now();
    const targets = this.ctx.members.randomMembers(
      config.gossipNodes,
      (m) => !isGone(m.status) || now - m.statusChangedAt < config.gossipToTheDeadMs,
    );
    const limit = config.udpBufferSize - COMPOUND_OVERHEAD - wire.overhead;
    for (const target of targets) {
      const parts = queue.take(compoundPartOverhead(config.udpBufferSize), limit);
      if (parts.length === 0) return;
      this.sendRaw(target.addr, parts.length === 1 ? (parts[0] as Uint8Array) : encodeCompound(parts));
    }
  }

  private sendRaw(addr: string, encoded: Uint8Array): void {
    if (this.ctx.closed) return;
    this.ctx.stats.packetsSent++;
    this.ctx.transport.sendPacket(addr, this.ctx.wire.seal(encoded));
  }
}
