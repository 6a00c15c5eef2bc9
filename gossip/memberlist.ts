import { Awareness } from './awareness.ts';
import { BroadcastQueue } from './broadcast-queue.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { COMPOUND_OVERHEAD, compoundPartOverhead, encodeCompound, MAX_META_BYTES } from './codec.ts';
import { DEFAULT_LAN_CONFIG, lossAwareRetransmitLimit, pushPullInterval, retransmitLimit, suspicionBounds, type GossipConfig } from './config.ts';
import { newGossipStats, type GossipStats } from './gossip-stats.ts';
import type { Keyring } from './keyring.ts';
import { isGone, sameBytes, viewOf, type MemberRecord, type MembershipEvent, type MemberView } from './member.ts';
import type {
  AliveMessage,
  DeadMessage,
  IndirectPingMessage,
  MemberState,
  PacketMessage,
  PingMessage,
  StreamMessage,
  SuspectMessage,
} from './messages.ts';
import { Suspicion } from './suspicion.ts';
import type { Transport } from './transport.ts';
import { Wire } from './wire.ts';

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
  log?: (level: 'debug' | 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;
}

export type RequestHandler = (from: string, body: Uint8Array) => Promise<Uint8Array> | Uint8Array;

interface AckWaiter {
  onAck(): void;
  onNack(): void;
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
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly wire: Wire;
  private readonly log: NonNullable<MemberlistOptions['log']>;
  private readonly members = new Map<string, MemberRecord>();
  /** Probe order (memberlist's `nodes`): shuffled when a round completes, new members inserted at random. */
  private order: MemberRecord[] = [];
  private probeIndex = 0;
  private readonly awareness: Awareness;
  private readonly queue: BroadcastQueue;
  private readonly waiters = new Map<number, AckWaiter>();
  private readonly listeners = new Set<(event: MembershipEvent) => void>();
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly loops: TimerHandle[] = [];
  /** Members declared dead (not left), by name, still worth a reconnect attempt; outlives the member table's reaping. */
  private readonly failed = new Map<string, { addr: string; since: number }>();
  private seq = 0;
  /** EWMA of probes answered directly, before the probe timeout: an estimate of (packet delivery rate)². */
  private directProbeSuccess = 1;
  private leaving = false;
  private closed = false;

  constructor(options: MemberlistOptions) {
    this.name = options.name;
    this.config = { ...DEFAULT_LAN_CONFIG, ...options.config };
    this.transport = options.transport;
    this.clock = options.clock;
    this.random = options.random ?? Math.random;
    this.wire = new Wire(options.keyring, this.config.label);
    this.log = options.log ?? (() => {});
    this.awareness = new Awareness(this.config.awarenessMaxMultiplier);
    this.queue = new BroadcastQueue(this.config.maxQueuedBroadcasts, () => {
      const base = retransmitLimit(this.config.retransmitMult, this.members.size);
      return this.config.lossAwareRetransmit ? lossAwareRetransmitLimit(base, this.directProbeSuccess) : base;
    });
    const meta = options.meta ?? new Uint8Array(0);
    checkMeta(meta);
    const self: MemberRecord = {
      name: this.name,
      addr: this.transport.address,
      incarnation: 0,
      status: 'alive',
      meta,
      statusChangedAt: this.clock.now(),
      suspicion: undefined,
    };
    this.members.set(this.name, self);
    this.order.push(self);
    this.transport.setHandlers({
      packet: (from, data) => this.onPacket(from, data),
      stream: (from, data, reply) => this.onStream(from, data, reply),
    });
  }

  /** Starts probing, gossip and push/pull, each loop at a random offset so members do not tick in lockstep. */
  start(): void {
    this.loop(() => this.awareness.scale(this.config.probeIntervalMs), () => this.probe());
    this.loop(() => this.config.gossipIntervalMs, () => this.gossip());
    this.loop(() => pushPullInterval(this.config.pushPullIntervalMs, this.members.size), () => this.periodicPushPull());
    if (this.config.reconnectIntervalMs > 0) this.loop(() => this.config.reconnectIntervalMs, () => this.reconnect());
  }

  /** Exchanges full state with each seed; resolves with how many answered. */
  async join(seeds: readonly string[]): Promise<number> {
    const results = await Promise.all(
      seeds.filter((seed) => seed !== this.transport.address).map((seed) => new Promise<boolean>((resolve) => this.pushPull(seed, true, resolve))),
    );
    return results.filter(Boolean).length;
  }

  /**
   * Starts from a known member table without gossiping it, as a cluster that has already converged would be.
   * Simulations use it to measure one change in a large quiet cluster.
   */
  installMembers(states: readonly MemberState[]): void {
    for (const state of states) {
      if (state.name === this.name || this.members.has(state.name)) continue;
      this.addMember(state.name, state.addr, state.incarnation, state.meta, state.status);
    }
  }

  /** Announces new metadata (≤ 512 bytes) under a higher incarnation. */
  updateMeta(meta: Uint8Array): void {
    checkMeta(meta);
    const self = this.self;
    self.incarnation++;
    self.meta = meta;
    this.broadcastAlive(self);
    this.emit('update', self);
  }

  /** Tells the cluster this member is leaving and waits, at most `timeoutMs`, until the news has been sent its full count. */
  leave(timeoutMs = 2_000): Promise<void> {
    if (this.leaving) return Promise.resolve();
    this.leaving = true;
    const self = this.self;
    if (this.aliveCount() <= 1) {
      self.status = 'left';
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = this.clock.setTimer(timeoutMs, resolve);
      const sent = (): void => {
        this.clock.clearTimer(timer);
        resolve();
      };
      this.deadNode({ type: 'dead', name: this.name, incarnation: self.incarnation, from: this.name }, sent);
    });
  }

  /** Stops every loop and closes the transport. Call `leave()` first for a graceful exit. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const handle of this.loops) this.clock.clearTimer(handle);
    for (const member of this.members.values()) member.suspicion?.cancel();
    this.queue.clear();
    await this.transport.close();
  }

  get localMember(): MemberView {
    return viewOf(this.self);
  }

  get healthScore(): number {
    return this.awareness.score;
  }

  get queuedBroadcasts(): number {
    return this.queue.length;
  }

  /** Every member known, this one included; dead and left members stay listed while their death spreads. */
  allMembers(): MemberView[] {
    return [...this.members.values()].map(viewOf);
  }

  member(name: string): MemberView | undefined {
    const record = this.members.get(name);
    return record ? viewOf(record) : undefined;
  }

  onEvent(listener: (event: MembershipEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Serves application requests of `kind` arriving over the gossip stream port. */
  handle(kind: string, handler: RequestHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Sends an application request to the member at `addr` over a stream. */
  request(addr: string, kind: string, body: Uint8Array, timeoutMs = this.config.streamTimeoutMs): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.transport.request(addr, this.wire.encodeStream({ type: 'user-request', kind, body }), timeoutMs, (error, reply) => {
        if (error || !reply) return reject(error ?? new Error('no reply'));
        const opened = this.wire.openStream(reply);
        if (!opened.ok) return reject(new Error(`reply from ${addr} was ${opened.reason}`));
        const message = opened.message;
        if (message.type !== 'user-response') return reject(new Error(`unexpected ${message.type} reply from ${addr}`));
        if (!message.ok) return reject(new Error(new TextDecoder().decode(message.body)));
        resolve(message.body);
      });
    });
  }

  // ---- probing ----

  private probe(): void {
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
      if (!member || member.name === this.name || isGone(member.status)) continue;
      this.probeMember(member);
      return;
    }
  }

  /** Drops members dead for longer than gossip-to-the-dead and reshuffles the probe order. */
  private resetOrder(): void {
    const now = this.clock.now();
    const kept: MemberRecord[] = [];
    for (const member of this.order) {
      if (isGone(member.status) && now - member.statusChangedAt > this.config.gossipToTheDeadMs) {
        this.members.delete(member.name);
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

  private probeMember(member: MemberRecord): void {
    this.stats.probes++;
    const seq = this.nextSeq();
    const interval = this.awareness.scale(this.config.probeIntervalMs);
    const probeTimeout = this.awareness.scale(this.config.probeTimeoutMs);
    let done = false;
    let direct = true;
    let nacks = 0;
    let expectedNacks = 0;
    const timers: TimerHandle[] = [];
    const finish = (): void => {
      done = true;
      this.waiters.delete(seq);
      for (const timer of timers) this.clock.clearTimer(timer);
    };
    this.waiters.set(seq, {
      onAck: () => {
        if (done) return;
        finish();
        this.awareness.applyDelta(-1);
        this.noteProbe(direct);
      },
      onNack: () => {
        nacks++;
      },
    });
    const ping: PingMessage = { type: 'ping', seq, target: member.name, source: this.name, sourceAddr: this.transport.address };
    const extra: PacketMessage[] = [];
    // Lifeguard's buddy system: a suspect hears of its suspicion with the probe itself, so it can refute at once.
    if (member.status === 'suspect') extra.push({ type: 'suspect', name: member.name, incarnation: member.incarnation, from: this.name });
    this.send(member.addr, ping, extra);

    timers.push(
      this.clock.setTimer(probeTimeout, () => {
        if (done || this.closed) return;
        direct = false;
        const incarnation = member.incarnation;
        const peers = this.randomMembers(this.config.indirectChecks, (m) => m.status === 'alive' && m.name !== member.name);
        expectedNacks = peers.length;
        for (const peer of peers) {
          this.stats.indirectProbes++;
          const request: IndirectPingMessage = {
            type: 'indirect-ping',
            seq,
            target: member.name,
            targetAddr: member.addr,
            source: this.name,
            sourceAddr: this.transport.address,
            wantNack: true,
          };
          this.send(peer.addr, request);
        }
        if (this.config.streamFallbackProbe) this.streamProbe(member, seq, Math.max(1, interval - probeTimeout));
        timers.push(
          this.clock.setTimer(Math.max(1, interval - probeTimeout), () => {
            if (done || this.closed) return;
            finish();
            this.noteProbe(false);
            this.stats.probesFailed++;
            // Lifeguard: peers that could not reach the target either (nacks) point at it; missing nacks point at us.
            this.awareness.applyDelta(expectedNacks > 0 ? Math.max(0, expectedNacks - nacks) : 1);
            const current = this.members.get(member.name);
            if (current === member && !isGone(member.status)) {
              this.suspectNode({ type: 'suspect', name: member.name, incarnation, from: this.name });
            }
          }),
        );
      }),
    );
  }

  private noteProbe(direct: boolean): void {
    const alpha = 0.1;
    this.directProbeSuccess = (1 - alpha) * this.directProbeSuccess + alpha * (direct ? 1 : 0);
  }

  private streamProbe(member: MemberRecord, seq: number, timeoutMs: number): void {
    this.stats.streamProbes++;
    const bytes = this.wire.encodeStream({ type: 'stream-ping', seq, target: member.name, source: this.name });
    this.transport.request(member.addr, bytes, timeoutMs, (error, reply) => {
      if (error || !reply || this.closed) return;
      const opened = this.wire.openStream(reply);
      if (opened.ok && opened.message.type === 'ack' && opened.message.seq === seq) this.waiters.get(seq)?.onAck();
    });
  }

  // ---- gossip and push/pull ----

  private gossip(): void {
    if (this.queue.length === 0) return;
    const now = this.clock.now();
    const targets = this.randomMembers(
      this.config.gossipNodes,
      (m) => !isGone(m.status) || now - m.statusChangedAt < this.config.gossipToTheDeadMs,
    );
    const limit = this.config.udpBufferSize - COMPOUND_OVERHEAD - this.wire.overhead;
    for (const target of targets) {
      const parts = this.queue.take(compoundPartOverhead(this.config.udpBufferSize), limit);
      if (parts.length === 0) return;
      this.sendRaw(target.addr, parts.length === 1 ? (parts[0] as Uint8Array) : encodeCompound(parts));
    }
  }

  private periodicPushPull(): void {
    const [peer] = this.randomMembers(1, (m) => m.status === 'alive');
    if (peer) this.pushPull(peer.addr, false, () => {});
  }

  /**
   * Serf's reconnect, which memberlist leaves to its user: push/pull with a random dead member, with probability
   * failed / alive so the cluster as a whole tries each dead member about once per interval. Without it, two halves
   * of a partition that outlasts gossip-to-the-dead never find each other again.
   */
  private reconnect(): void {
    const now = this.clock.now();
    for (const [name, entry] of this.failed) if (now - entry.since > this.config.reconnectTimeoutMs) this.failed.delete(name);
    if (this.failed.size === 0) return;
    const probability = this.failed.size / Math.max(1, this.aliveCount() - 1);
    if (this.random() >= probability) return;
    const entries = [...this.failed.values()];
    const target = entries[Math.floor(this.random() * entries.length)];
    if (target) this.pushPull(target.addr, false, () => {});
  }

  private pushPull(addr: string, join: boolean, done: (ok: boolean) => void): void {
    this.stats.pushPulls++;
    const bytes = this.wire.encodeStream({ type: 'push-pull', join, members: this.localState() });
    this.transport.request(addr, bytes, this.config.streamTimeoutMs, (error, reply) => {
      if (this.closed) return done(false);
      const opened = error || !reply ? undefined : this.wire.openStream(reply);
      if (!opened?.ok || opened.message.type !== 'push-pull') {
        this.stats.pushPullsFailed++;
        if (opened && !opened.ok) this.countDropped(opened.reason);
        this.log('debug', 'push/pull failed', { addr, error: error?.message ?? opened?.ok });
        return done(false);
      }
      this.mergeRemoteState(opened.message.members);
      done(true);
    });
  }

  private localState(): MemberState[] {
    return [...this.members.values()].map((m) => ({ name: m.name, addr: m.addr, incarnation: m.incarnation, status: m.status, meta: m.meta }));
  }

  /** A remote table is news like any other, except that its deaths become suspicions: a second opinion first. */
  private mergeRemoteState(states: readonly MemberState[]): void {
    for (const state of states) {
      switch (state.status) {
        case 'alive':
          this.aliveNode({ type: 'alive', name: state.name, addr: state.addr, incarnation: state.incarnation, meta: state.meta });
          break;
        case 'left':
          this.deadNode({ type: 'dead', name: state.name, incarnation: state.incarnation, from: state.name });
          break;
        case 'dead':
        case 'suspect':
          this.suspectNode({ type: 'suspect', name: state.name, incarnation: state.incarnation, from: this.name });
          break;
      }
    }
  }

  // ---- state transitions (memberlist's aliveNode, suspectNode, deadNode) ----

  private aliveNode(message: AliveMessage): void {
    if (message.meta.length > MAX_META_BYTES) return;
    const member = this.members.get(message.name);
    if (!member) {
      if (this.leaving) return;
      this.failed.delete(message.name);
      const added = this.addMember(message.name, message.addr, message.incarnation, message.meta, 'alive');
      this.queue.enqueue(message.name, this.wire.encodePacket(message));
      this.emit('join', added);
      return;
    }
    if (member.name === this.name) {
      // Someone claims something about us at our incarnation or above: out-shout it, unless it is what we said.
      if (message.incarnation < member.incarnation) return;
      if (message.incarnation === member.incarnation && sameBytes(message.meta, member.meta) && message.addr === member.addr) return;
      if (!this.leaving) this.refute(message.incarnation);
      return;
    }
    if (message.incarnation <= member.incarnation) return;
    member.suspicion?.cancel();
    member.suspicion = undefined;
    this.failed.delete(member.name);
    const wasGone = isGone(member.status);
    const changed = member.status !== 'alive' || member.addr !== message.addr || !sameBytes(member.meta, message.meta);
    if (member.status !== 'alive') member.statusChangedAt = this.clock.now();
    member.status = 'alive';
    member.incarnation = message.incarnation;
    member.addr = message.addr;
    member.meta = message.meta;
    this.queue.enqueue(member.name, this.wire.encodePacket(message));
    if (wasGone) this.emit('join', member);
    else if (changed) this.emit('update', member);
  }

  private suspectNode(message: SuspectMessage): void {
    const member = this.members.get(message.name);
    if (!member || message.incarnation < member.incarnation) return;
    if (member.suspicion) {
      if (member.suspicion.confirm(message.from)) this.queue.enqueue(member.name, this.wire.encodePacket(message));
      return;
    }
    if (member.status !== 'alive') return;
    if (member.name === this.name) {
      if (!this.leaving) this.refute(message.incarnation);
      return;
    }
    this.stats.suspicionsRaised++;
    this.queue.enqueue(member.name, this.wire.encodePacket(message));
    member.incarnation = message.incarnation;
    member.status = 'suspect';
    member.statusChangedAt = this.clock.now();
    const n = this.aliveCount();
    // Lifeguard: expect k = mult − 2 independent confirmations, unless the cluster is too small to give them.
    let k = this.config.suspicionMult - 2;
    if (n - 2 < k) k = 0;
    const { minMs, maxMs } = suspicionBounds(this.config, n);
    const incarnation = message.incarnation;
    member.suspicion = new Suspicion(message.from, k, minMs, maxMs, this.clock, () => {
      if (this.closed || member.status !== 'suspect' || member.incarnation !== incarnation) return;
      this.deadNode({ type: 'dead', name: member.name, incarnation, from: this.name });
    });
    this.emit('update', member);
  }

  private deadNode(message: DeadMessage, onSent?: () => void): void {
    const member = this.members.get(message.name);
    if (!member || message.incarnation < member.incarnation || isGone(member.status)) return;
    if (member.name === this.name && !this.leaving) {
      this.refute(message.incarnation);
      return;
    }
    member.suspicion?.cancel();
    member.suspicion = undefined;
    this.queue.enqueue(member.name, this.wire.encodePacket(message), onSent);
    member.incarnation = message.incarnation;
    member.status = message.from === message.name ? 'left' : 'dead';
    member.statusChangedAt = this.clock.now();
    if (member.status === 'dead') {
      this.stats.membersDeclaredDead++;
      this.failed.set(member.name, { addr: member.addr, since: member.statusChangedAt });
    } else {
      this.failed.delete(member.name);
    }
    this.emit('leave', member);
  }

  /** Answers an accusation against this member with an incarnation above it; being accused also lowers local health. */
  private refute(accusedIncarnation: number): void {
    const self = this.self;
    self.incarnation = Math.max(self.incarnation, accusedIncarnation) + 1;
    this.stats.refutations++;
    this.awareness.applyDelta(1);
    this.broadcastAlive(self);
  }

  private broadcastAlive(self: MemberRecord): void {
    const alive: AliveMessage = { type: 'alive', name: self.name, addr: self.addr, incarnation: self.incarnation, meta: self.meta };
    this.queue.enqueue(self.name, this.wire.encodePacket(alive));
  }

  // ---- receiving ----

  private onPacket(from: string, data: Uint8Array): void {
    if (this.closed) return;
    this.stats.packetsReceived++;
    const opened = this.wire.openPacket(data);
    if (!opened.ok) return this.countDropped(opened.reason);
    const message = opened.message;
    if (message.type !== 'compound') return this.handlePacket(from, message);
    for (const part of message.parts) {
      const decoded = this.wire.decodePart(part);
      if (!decoded.ok || decoded.message.type === 'compound') {
        this.stats.packetsMalformed++;
        continue;
      }
      this.handlePacket(from, decoded.message);
    }
  }

  private handlePacket(from: string, message: Exclude<PacketMessage, { type: 'compound' }>): void {
    switch (message.type) {
      case 'ping':
        if (message.target !== this.name) return;
        this.send(from, { type: 'ack', seq: message.seq });
        return;
      case 'indirect-ping':
        return this.relayProbe(from, message);
      case 'ack':
        this.waiters.get(message.seq)?.onAck();
        return;
      case 'nack':
        this.waiters.get(message.seq)?.onNack();
        return;
      case 'alive':
        return this.aliveNode(message);
      case 'suspect':
        return this.suspectNode(message);
      case 'dead':
        return this.deadNode(message);
    }
  }

  /** Probes `target` for a peer; relays the ack, or a nack if it stays silent, so the peer can tell its own trouble from the target's. */
  private relayProbe(from: string, request: IndirectPingMessage): void {
    const seq = this.nextSeq();
    const timer = this.clock.setTimer(this.config.probeTimeoutMs, () => {
      this.waiters.delete(seq);
      if (request.wantNack && !this.closed) this.send(from, { type: 'nack', seq: request.seq });
    });
    this.waiters.set(seq, {
      onAck: () => {
        this.waiters.delete(seq);
        this.clock.clearTimer(timer);
        this.send(from, { type: 'ack', seq: request.seq });
      },
      onNack: () => {},
    });
    this.send(request.targetAddr, { type: 'ping', seq, target: request.target, source: this.name, sourceAddr: this.transport.address });
  }

  private onStream(from: string, data: Uint8Array, reply: (data: Uint8Array) => void): void {
    if (this.closed) return;
    const opened = this.wire.openStream(data);
    if (!opened.ok) return this.countDropped(opened.reason);
    const message = opened.message;
    switch (message.type) {
      case 'push-pull':
        reply(this.wire.encodeStream({ type: 'push-pull', join: false, members: this.localState() }));
        this.mergeRemoteState(message.members);
        return;
      case 'stream-ping':
        if (message.target === this.name) reply(this.wire.encodeStream({ type: 'ack', seq: message.seq }));
        return;
      case 'user-request':
        return this.serveRequest(from, message.kind, message.body, reply);
      default:
        this.stats.packetsMalformed++;
    }
  }

  private serveRequest(from: string, kind: string, body: Uint8Array, reply: (data: Uint8Array) => void): void {
    const handler = this.handlers.get(kind);
    const answer = (message: StreamMessage): void => reply(this.wire.encodeStream(message));
    const fail = (text: string): void => answer({ type: 'user-response', ok: false, body: new TextEncoder().encode(text) });
    if (!handler) return fail(`no handler for ${kind}`);
    Promise.resolve()
      .then(() => handler(from, body))
      .then(
        (result) => answer({ type: 'user-response', ok: true, body: result }),
        (error: unknown) => fail(error instanceof Error ? error.message : String(error)),
      );
  }

  // ---- sending and helpers ----

  /** Sends one message, filling the rest of the packet with queued broadcasts. */
  private send(addr: string, message: PacketMessage, extra: PacketMessage[] = []): void {
    const parts = [this.wire.encodePacket(message), ...extra.map((m) => this.wire.encodePacket(m))];
    const partOverhead = compoundPartOverhead(this.config.udpBufferSize);
    let used = COMPOUND_OVERHEAD + this.wire.overhead;
    for (const part of parts) used += part.length + partOverhead;
    parts.push(...this.queue.take(partOverhead, this.config.udpBufferSize - used));
    this.sendRaw(addr, parts.length === 1 ? (parts[0] as Uint8Array) : encodeCompound(parts));
  }

  private sendRaw(addr: string, encoded: Uint8Array): void {
    if (this.closed) return;
    this.stats.packetsSent++;
    this.transport.sendPacket(addr, this.wire.seal(encoded));
  }

  private countDropped(reason: 'unauthenticated' | 'malformed'): void {
    if (reason === 'unauthenticated') this.stats.packetsUnauthenticated++;
    else this.stats.packetsMalformed++;
  }

  private addMember(name: string, addr: string, incarnation: number, meta: Uint8Array, status: MemberRecord['status']): MemberRecord {
    const record: MemberRecord = { name, addr, incarnation, status, meta, statusChangedAt: this.clock.now(), suspicion: undefined };
    this.members.set(name, record);
    // Insert at a random position so a new member is not always probed last (memberlist does the same).
    const offset = Math.floor(this.random() * (this.order.length + 1));
    this.order.push(record);
    const swap = this.order[offset] as MemberRecord;
    this.order[offset] = record;
    this.order[this.order.length - 1] = swap;
    return record;
  }

  /** Up to `k` distinct random members other than this one, by random offsets as memberlist's `kRandomNodes`. */
  private randomMembers(k: number, accept: (member: MemberRecord) => boolean): MemberRecord[] {
    const picked: MemberRecord[] = [];
    const n = this.order.length;
    for (let tries = 0; tries < 3 * n && picked.length < k; tries++) {
      const member = this.order[Math.floor(this.random() * n)];
      if (!member || member.name === this.name || picked.includes(member) || !accept(member)) continue;
      picked.push(member);
    }
    return picked;
  }

  private aliveCount(): number {
    let n = 0;
    for (const member of this.members.values()) if (!isGone(member.status)) n++;
    return n;
  }

  private nextSeq(): number {
    this.seq = this.seq >= Number.MAX_SAFE_INTEGER ? 1 : this.seq + 1;
    return this.seq;
  }

  private get self(): MemberRecord {
    return this.members.get(this.name) as MemberRecord;
  }

  private emit(type: MembershipEvent['type'], member: MemberRecord): void {
    const event = { type, member: viewOf(member) } as MembershipEvent;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.log('warn', 'membership listener failed', { error: String(error) });
      }
    }
  }

  private loop(intervalMs: () => number, tick: () => void): void {
    const index = this.loops.length;
    const schedule = (delay: number): void => {
      this.loops[index] = this.clock.setTimer(delay, () => {
        if (this.closed) return;
        tick();
        schedule(intervalMs());
      });
    };
    schedule(Math.floor(this.random() * intervalMs()));
  }
}

function checkMeta(meta: Uint8Array): void {
  if (meta.length > MAX_META_BYTES) throw new RangeError(`member metadata is ${meta.length} bytes; the limit is ${MAX_META_BYTES}`);
}
