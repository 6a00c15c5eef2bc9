import type { TimerHandle } from './clock.ts';
import type { MemberContext } from './member-context.ts';
import { isGone, type MemberRecord } from './member.ts';
import type { IndirectPingMessage, PacketMessage, PingMessage, StreamPingMessage } from './messages.ts';
import type { PacketSender } from './packet-sender.ts';
import type { StateTransitions } from './state-transitions.ts';

interface AckWaiter {
  onAck(): void;
  onNack(): void;
}

/**
 * SWIM's probe cycle with Lifeguard's refinements: probes one member per interval in shuffled round-robin order,
 * asks `k` peers to probe a silent one (and tries a stream probe beside them), and suspects it when none of them
 * gets an ack in time. Also answers and relays the probes of other members.
 */
export class FailureDetector {
  private readonly ctx: MemberContext;
  private readonly sender: PacketSender;
  private readonly transitions: StateTransitions;
  private readonly waiters = new Map<number, AckWaiter>();
  private seq = 0;
  /** EWMA of probes answered directly, before the probe timeout: an estimate of (packet delivery rate)². */
  private directProbeSuccessRate = 1;

  constructor(ctx: MemberContext, sender: PacketSender, transitions: StateTransitions) {
    this.ctx = ctx;
    this.sender = sender;
    this.transitions = transitions;
  }

  get directProbeSuccess(): number {
    return this.directProbeSuccessRate;
  }

  probe(): void {
    const member = this.ctx.members.nextProbeTarget();
    if (member) this.probeMember(member);
  }

  answerPing(from: string, ping: PingMessage): void {
    if (ping.target !== this.ctx.name) return;
    this.sender.send(from, { type: 'ack', seq: ping.seq });
  }

  answerStreamPing(ping: StreamPingMessage, reply: (data: Uint8Array) => void): void {
    if (ping.target === this.ctx.name) reply(this.ctx.wire.encodeStream({ type: 'ack', seq: ping.seq }));
  }

  onAck(seq: number): void {
    this.waiters.get(seq)?.onAck();
  }

  onNack(seq: number): void {
    this.waiters.get(seq)?.onNack();
  }

  /** Probes `target` for a peer; relays the ack, or a nack if it stays silent, so the peer can tell its own trouble from the target's. */
  relayProbe(from: string, request: IndirectPingMessage): void {
    const { clock, config } = this.ctx;
    const seq = this.nextSeq();
    const timer = clock.setTimer(config.probeTimeoutMs, () => {
      this.waiters.delete(seq);
      if (request.wantNack && !this.ctx.closed) this.sender.send(from, { type: 'nack', seq: request.seq });
    });
    this.waiters.set(seq, {
      onAck: () => {
        this.waiters.delete(seq);
        clock.clearTimer(timer);
        this.sender.send(from, { type: 'ack', seq: request.seq });
      },
      onNack: () => {},
    });
    this.sender.send(request.targetAddr, { type: 'ping', seq, target: request.target, source: this.ctx.name, sourceAddr: this.ctx.transport.address });
  }

  private probeMember(member: MemberRecord): void {
    const { awareness, clock, config, stats } = this.ctx;
    stats.probes++;
    const seq = this.nextSeq();
    const interval = awareness.scale(config.probeIntervalMs);
    const probeTimeout = awareness.scale(config.probeTimeoutMs);
    let done = false;
    let direct = true;
    let nacks = 0;
    let expectedNacks = 0;
    const timers: TimerHandle[] = [];
    const finish = (): void => {
      done = true;
      this.waiters.delete(seq);
      for (const timer of timers) clock.clearTimer(timer);
    };
    this.waiters.set(seq, {
      onAck: () => {
        if (done) return;
        finish();
        awareness.applyDelta(-1);
        this.noteProbe(direct);
      },
      onNack: () => {
        nacks++;
      },
    });
    const ping: PingMessage = { type: 'ping', seq, target: member.name, source: this.ctx.name, sourceAddr: this.ctx.transport.address };
    const extra: PacketMessage[] = [];
    // Lifeguard's buddy system: a suspect hears of its suspicion with the probe itself, so it can refute at once.
    if (member.status === 'suspect') extra.push({ type: 'suspect', name: member.name, incarnation: member.incarnation, from: this.ctx.name });
    this.sender.send(member.addr, ping, extra);

    timers.push(
      clock.setTimer(probeTimeout, () => {
        if (done || this.ctx.closed) return;
        direct = false;
        const incarnation = member.incarnation;
        const peers = this.ctx.members.randomMembers(config.indirectChecks, (m) => m.status === 'alive' && m.name !== member.name);
        expectedNacks = peers.length;
        for (const peer of peers) {
          stats.indirectProbes++;
          const request: IndirectPingMessage = {
            type: 'indirect-ping',
            seq,
            target: member.name,
            targetAddr: member.addr,
            source: this.ctx.name,
            sourceAddr: this.ctx.transport.address,
            wantNack: true,
          };
          this.sender.send(peer.addr, request);
        }
        if (config.streamFallbackProbe) this.streamProbe(member, seq, Math.max(1, interval - probeTimeout));
        timers.push(
          clock.setTimer(Math.max(1, interval - probeTimeout), () => {
            if (done || this.ctx.closed) return;
            finish();
            this.noteProbe(false);
            stats.probesFailed++;
            // Lifeguard: peers that could not reach the target either (nacks) point at it; missing nacks point at us.
            awareness.applyDelta(expectedNacks > 0 ? Math.max(0, expectedNacks - nacks) : 1);
            const current = this.ctx.members.get(member.name);
            if (current === member && !isGone(member.status)) {
              this.transitions.suspectNode({ type: 'suspect', name: member.name, incarnation, from: this.ctx.name });
            }
          }),
        );
      }),
    );
  }

  private noteProbe(direct: boolean): void {
    const alpha = 0.1;
    this.directProbeSuccessRate = (1 - alpha) * this.directProbeSuccessRate + alpha * (direct ? 1 : 0);
  }

  private streamProbe(member: MemberRecord, seq: number, timeoutMs: number): void {
    this.ctx.stats.streamProbes++;
    const bytes = this.ctx.wire.encodeStream({ type: 'stream-ping', seq, target: member.name, source: this.ctx.name });
    this.ctx.transport.request(member.addr, bytes, timeoutMs, (error, reply) => {
      if (error || !reply || this.ctx.closed) return;
      const opened = this.ctx.wire.openStream(reply);
      if (opened.ok && opened.message.type === 'ack' && opened.message.seq === seq) this.waiters.get(seq)?.onAck();
    });
  }

  private nextSeq(): number {
    this.seq = this.seq >= Number.MAX_SAFE_INTEGER ? 1 : this.seq + 1;
    return this.seq;
  }
}
