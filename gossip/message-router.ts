import type { FailureDetector } from './failure-detector.ts';
import { countDropped } from './gossip-stats.ts';
import type { MemberContext } from './member-context.ts';
import type { PacketMessage } from './messages.ts';
import type { PushPullSync } from './push-pull-sync.ts';
import type { StateTransitions } from './state-transitions.ts';
import type { UserRequests } from './user-requests.ts';

export interface MessageHandlers {
  readonly detector: FailureDetector;
  readonly transitions: StateTransitions;
  readonly sync: PushPullSync;
  readonly requests: UserRequests;
}

/** Opens what the transport delivers, counts what does not open, and hands each message to the part that handles it. */
export class MessageRouter {
  private readonly ctx: MemberContext;
  private readonly handlers: MessageHandlers;

  constructor(ctx: MemberContext, handlers: MessageHandlers) {
    this.ctx = ctx;
    this.handlers = handlers;
  }

  onPacket(from: string, data: Uint8Array): void {
    const { stats, wire } = this.ctx;
    if (this.ctx.closed) return;
    stats.packetsReceived++;
    const opened = wire.openPacket(data);
    if (!opened.ok) return countDropped(stats, opened.reason);
    const message = opened.message;
    if (message.type !== 'compound') return this.handlePacket(from, message);
    for (const part of message.parts) {
      const decoded = wire.decodePart(part);
      if (!decoded.ok || decoded.message.type === 'compound') {
        stats.packetsMalformed++;
        continue;
      }
      this.handlePacket(from, decoded.message);
    }
  }

  onStream(from: string, data: Uint8Array, reply: (data: Uint8Array) => void): void {
    const { stats, wire } = this.ctx;
    if (this.ctx.closed) return;
    const opened = wire.openStream(data);
    if (!opened.ok) return countDropped(stats, opened.reason);
    const message = opened.message;
    switch (message.type) {
      case 'push-pull':
        return this.handlers.sync.answer(message, reply);
      case 'stream-ping':
        return this.handlers.detector.answerStreamPing(message, reply);
      case 'user-request':
        return this.handlers.requests.serve(from, message.kind, message.body, reply);
      default:
        stats.packetsMalformed++;
    }
  }

  private handlePacket(from: string, message: Exclude<PacketMessage, { type: 'compound' }>): void {
    const { detector, transitions } = this.handlers;
    switch (message.type) {
      case 'ping':
        return detector.answerPing(from, message);
      case 'indirect-ping':
        return detector.relayProbe(from, message);
      case 'ack':
        return detector.onAck(message.seq);
      case 'nack':
        return detector.onNack(message.seq);
      case 'alive':
        return transitions.aliveNode(message);
      case 'suspect':
        return transitions.suspectNode(message);
      case 'dead':
        return transitions.deadNode(message);
    }
  }
}
