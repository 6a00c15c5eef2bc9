import { countDropped } from './gossip-stats.ts';
import type { MemberContext } from './member-context.ts';
import type { MemberState, PushPullMessage } from './messages.ts';
import type { StateTransitions } from './state-transitions.ts';

/**
 * Anti-entropy: whole member tables exchanged over a stream, when joining, periodically with a random live member,
 * and now and then with a dead one. It repairs whatever gossip missed.
 */
export class PushPullSync {
  private readonly ctx: MemberContext;
  private readonly transitions: StateTransitions;

  constructor(ctx: MemberContext, transitions: StateTransitions) {
    this.ctx = ctx;
    this.transitions = transitions;
  }

  async join(seeds: readonly string[]): Promise<number> {
    const results = await Promise.all(
      seeds.filter((seed) => seed !== this.ctx.transport.address).map((seed) => new Promise<boolean>((resolve) => this.pushPull(seed, true, resolve))),
    );
    return results.filter(Boolean).length;
  }

  periodicPushPull(): void {
    const [peer] = this.ctx.members.randomMembers(1, (m) => m.status === 'alive');
    if (peer) this.pushPull(peer.addr, false, () => {});
  }

  /**
   * Serf's reconnect, which memberlist leaves to its user: push/pull with a random dead member, with probability
   * failed / alive so the cluster as a whole tries each dead member about once per interval. Without it, two halves
   * of a partition that outlasts gossip-to-the-dead never find each other again.
   */
  reconnect(): void {
    const { failed, random } = this.ctx;
    const now = this.ctx.clock.now();
    for (const [name, entry] of failed) if (now - entry.since > this.ctx.config.reconnectTimeoutMs) failed.delete(name);
    if (failed.size === 0) return;
    const probability = failed.size / Math.max(1, this.ctx.members.aliveCount() - 1);
    if (random() >= probability) return;
    const entries = [...failed.values()];
    const target = entries[Math.floor(random() * entries.length)];
    if (target) this.pushPull(target.addr, false, () => {});
  }

  /** Answers a push/pull another member started with this member's table, then merges theirs. */
  answer(message: PushPullMessage, reply: (data: Uint8Array) => void): void {
    reply(this.ctx.wire.encodeStream({ type: 'push-pull', join: false, members: this.ctx.members.states() }));
    this.mergeRemoteState(message.members);
  }

  private pushPull(addr: string, join: boolean, done: (ok: boolean) => void): void {
    const { stats, wire } = this.ctx;
    stats.pushPulls++;
    const bytes = wire.encodeStream({ type: 'push-pull', join, members: this.ctx.members.states() });
    this.ctx.transport.request(addr, bytes, this.ctx.config.streamTimeoutMs, (error, reply) => {
      if (this.ctx.closed) return done(false);
      const opened = error || !reply ? undefined : wire.openStream(reply);
      if (!opened?.ok || opened.message.type !== 'push-pull') {
        stats.pushPullsFailed++;
        if (opened && !opened.ok) countDropped(stats, opened.reason);
        this.ctx.log('debug', 'push/pull failed', { addr, error: error?.message ?? opened?.ok });
        return done(false);
      }
      this.mergeRemoteState(opened.message.members);
      done(true);
    });
  }

  /** A remote table is news like any other, except that its deaths become suspicions: a second opinion first. */
  private mergeRemoteState(states: readonly MemberState[]): void {
    for (const state of states) {
      switch (state.status) {
        case 'alive':
          this.transitions.aliveNode({ type: 'alive', name: state.name, addr: state.addr, incarnation: state.incarnation, meta: state.meta });
          break;
        case 'left':
          this.transitions.deadNode({ type: 'dead', name: state.name, incarnation: state.incarnation, from: state.name });
          break;
        case 'dead':
        case 'suspect':
          this.transitions.suspectNode({ type: 'suspect', name: state.name, incarnation: state.incarnation, from: this.ctx.name });
          break;
      }
    }
  }
}
