import { Awareness } from './awareness.ts';
import { BroadcastQueue } from './broadcast-queue.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { MAX_META_BYTES } from './codec.ts';
import { DEFAULT_LAN_CONFIG, lossAwareRetransmitLimit, pushPullInterval, retransmitLimit, type GossipConfig } from './config.ts';
import { FailureDetector } from './failure-detector.ts';
import { newGossipStats, type GossipStats } from './gossip-stats.ts';
import type { Keyring } from './keyring.ts';
import type { GossipLog, MemberContext } from './member-context.ts';
import { MemberTable } from './member-table.ts';
import { viewOf, type MemberRecord, type MembershipEvent, type MemberView } from './member.ts';
import { MessageRouter } from './message-router.ts';
import type { MemberState } from './messages.ts';
import { PacketSender } from './packet-sender.ts';
import { PushPullSync } from './push-pull-sync.ts';
import { StateTransitions } from './state-transitions.ts';
import type { Transport } from './transport.ts';
import { UserRequests, type RequestHandler } from './user-requests.ts';
import { Wire } from './wire.ts';

export type { RequestHandler } from './user-requests.ts';

export interface MemberlistOptions {
  /** Unique within the cluster. */
  name: string;
  transport: Transport;
  clock: Clock;
  config?: Partial<GossipConfig>;
  meta?: Uint8Array;
  /** Uniform in [0, 1); seeded in simulations so a failing run can be replayed. */
  random?: () => number;
  keyring?: Keyring;
  log?: GossipLog;
}

/**
 * One member of a SWIM cluster with Lifeguard's refinements, following HashiCorp memberlist: it probes one member
 * per interval in shuffled round-robin order, asks `k` peers to probe a silent one (and tries a stream probe beside
 * them), suspects it with a timeout that shrinks as others confirm, and declares it dead when nobody refutes in
 * time. Membership changes ride on every packet sent and on periodic gossip; a periodic push/pull of the whole table
 * repairs whatever gossip missed. Pure: time comes from `clock`, bytes go through `transport`.
 */
export class Memberlist {
  readonly name: string;
  readonly config: Readonly<GossipConfig>;
  readonly stats: GossipStats = newGossipStats();
  private readonly ctx: MemberContext;
  private readonly sender: PacketSender;
  private readonly transitions: StateTransitions;
  private readonly detector: FailureDetector;
  private readonly sync: PushPullSync;
  private readonly requests: UserRequests;
  private readonly listeners = new Set<(event: MembershipEvent) => void>();
  private readonly loops: TimerHandle[] = [];

  constructor(options: MemberlistOptions) {
    this.name = options.name;
    this.config = { ...DEFAULT_LAN_CONFIG, ...options.config };
    const { transport, clock } = options;
    const random = options.random ?? Math.random;
    const wire = new Wire(options.keyring, this.config.label);
    const meta = options.meta ?? new Uint8Array(0);
    checkMeta(meta);
    const self: MemberRecord = {
      name: this.name,
      addr: transport.address,
      incarnation: 0,
      status: 'alive',
      meta,
      statusChangedAt: clock.now(),
      suspicion: undefined,
    };
    const members = new MemberTable(self, clock, random, this.config.gossipToTheDeadMs);
    this.ctx = {
      name: this.name,
      config: this.config,
      stats: this.stats,
      transport,
      clock,
      random,
      wire,
      log: options.log ?? (() => {}),
      members,
      queue: new BroadcastQueue(this.config.maxQueuedBroadcasts, () => {
        const base = retransmitLimit(this.config.retransmitMult, members.size);
        return this.config.lossAwareRetransmit ? lossAwareRetransmitLimit(base, this.detector.directProbeSuccess) : base;
      }),
      awareness: new Awareness(this.config.awarenessMaxMultiplier),
      failed: new Map(),
      leaving: false,
      closed: false,
    };
    this.sender = new PacketSender(this.ctx);
    this.transitions = new StateTransitions(this.ctx, (type, member) => this.emit(type, member));
    this.detector = new FailureDetector(this.ctx, this.sender, this.transitions);
    this.sync = new PushPullSync(this.ctx, this.transitions);
    this.requests = new UserRequests(wire, transport);
    const router = new MessageRouter(this.ctx, { detector: this.detector, transitions: this.transitions, sync: this.sync, requests: this.requests });
    transport.setHandlers({
      packet: (from, data) => router.onPacket(from, data),
      stream: (from, data, reply) => router.onStream(from, data, reply),
    });
  }

  /** Starts probing, gossip and push/pull, each loop at a random offset so members do not tick in lockstep. */
  start(): void {
    this.loop(() => this.ctx.awareness.scale(this.config.probeIntervalMs), () => this.detector.probe());
    this.loop(() => this.config.gossipIntervalMs, () => this.sender.gossip());
    this.loop(() => pushPullInterval(this.config.pushPullIntervalMs, this.ctx.members.size), () => this.sync.periodicPushPull());
    if (this.config.reconnectIntervalMs > 0) this.loop(() => this.config.reconnectIntervalMs, () => this.sync.reconnect());
  }

  /** Exchanges full state with each seed; resolves with how many answered. */
  join(seeds: readonly string[]): Promise<number> {
    return this.sync.join(seeds);
  }

  /**
   * Starts from a known member table without gossiping it, as a cluster that has already converged would be.
   * Simulations use it to measure one change in a large quiet cluster.
   */
  installMembers(states: readonly MemberState[]): void {
    for (const state of states) {
      if (state.name === this.name || this.ctx.members.has(state.name)) continue;
      this.ctx.members.add(state.name, state.addr, state.incarnation, state.meta, state.status);
    }
  }

  /** Announces new metadata (≤ 512 bytes) under a higher incarnation. */
  updateMeta(meta: Uint8Array): void {
    checkMeta(meta);
    const self = this.ctx.members.self;
    self.incarnation++;
    self.meta = meta;
    this.transitions.broadcastAlive(self);
    this.emit('update', self);
  }

  /** Tells the cluster this member is leaving and waits, at most `timeoutMs`, until the news has been sent its full count. */
  leave(timeoutMs = 2_000): Promise<void> {
    if (this.ctx.leaving) return Promise.resolve();
    this.ctx.leaving = true;
    const self = this.ctx.members.self;
    if (this.ctx.members.aliveCount() <= 1) {
      self.status = 'left';
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = this.ctx.clock.setTimer(timeoutMs, resolve);
      const sent = (): void => {
        this.ctx.clock.clearTimer(timer);
        resolve();
      };
      this.transitions.deadNode({ type: 'dead', name: this.name, incarnation: self.incarnation, from: this.name }, sent);
    });
  }

  /** Stops every loop and closes the transport. Call `leave()` first for a graceful exit. */
  async shutdown(): Promise<void> {
    if (this.ctx.closed) return;
    this.ctx.closed = true;
    for (const handle of this.loops) this.ctx.clock.clearTimer(handle);
    for (const member of this.ctx.members.values()) member.suspicion?.cancel();
    this.ctx.queue.clear();
    await this.ctx.transport.close();
  }

  get localMember(): MemberView {
    return viewOf(this.ctx.members.self);
  }

  get healthScore(): number {
    return this.ctx.awareness.score;
  }

  get queuedBroadcasts(): number {
    return this.ctx.queue.length;
  }

  /** Every member known, this one included; dead and left members stay listed while their death spreads. */
  allMembers(): MemberView[] {
    return [...this.ctx.members.values()].map(viewOf);
  }

  member(name: string): MemberView | undefined {
    const record = this.ctx.members.get(name);
    return record ? viewOf(record) : undefined;
  }

  onEvent(listener: (event: MembershipEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Serves application requests of `kind` arriving over the gossip stream port. */
  handle(kind: string, handler: RequestHandler): void {
    this.requests.handle(kind, handler);
  }

  /** Sends an application request to the member at `addr` over a stream. */
  request(addr: string, kind: string, body: Uint8Array, timeoutMs = this.config.streamTimeoutMs): Promise<Uint8Array> {
    return this.requests.request(addr, kind, body, timeoutMs);
  }

  private emit(type: MembershipEvent['type'], member: MemberRecord): void {
    const event = { type, member: viewOf(member) } as MembershipEvent;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.ctx.log('warn', 'membership listener failed', { error: String(error) });
      }
    }
  }

  private loop(intervalMs: () => number, tick: () => void): void {
    const index = this.loops.length;
    const schedule = (delay: number): void => {
      this.loops[index] = this.ctx.clock.setTimer(delay, () => {
        if (this.ctx.closed) return;
        tick();
        schedule(intervalMs());
      });
    };
    schedule(Math.floor(this.ctx.random() * intervalMs()));
  }
}

function checkMeta(meta: Uint8Array): void {
  if (meta.length > MAX_META_BYTES) throw new RangeError(`member metadata is ${meta.length} bytes; the limit is ${MAX_META_BYTES}`);
}
