import type { Clock, TimerHandle } from '../clock.ts';
import type { RequestCallback, Transport, TransportHandlers } from '../transport.ts';
import { EventScheduler } from './event-scheduler.ts';

interface Cancellable {
  cancelled: boolean;
}
import { seededRandom } from './seeded-random.ts';

export interface NetworkConditions {
  /** Share of packets lost, 0..1. Streams are reliable but blocked by partitions like packets. */
  lossRate: number;
  /** One-way delay, uniform in [min, max] milliseconds. */
  minDelayMs: number;
  maxDelayMs: number;
  /** Share of packets delivered twice. */
  duplicateRate: number;
}

/** A member whose event loop stalls for `durationMs` out of every `periodMs`, starting at `offsetMs`. */
export interface StallSchedule {
  periodMs: number;
  durationMs: number;
  offsetMs: number;
}

interface SimNode {
  address: string;
  handlers: TransportHandlers | undefined;
  crashed: boolean;
  stall: StallSchedule | undefined;
}

/**
 * A seeded, in-process network for hundreds of members: lossy, delayed, duplicating datagrams; reliable streams;
 * one-way partitions; crashes; and members whose event loop stalls, during which their timers and arrivals wait
 * and then run in order, as a blocked Node process would run them. Time is simulated: `run(ms)` executes events
 * in order without waiting.
 */
export class SimulatedNetwork {
  readonly scheduler = new EventScheduler();
  readonly random: () => number;
  conditions: NetworkConditions;
  private readonly nodes = new Map<string, SimNode>();
  private readonly blocked = new Set<string>();
  packetsSent = 0;
  packetsDelivered = 0;
  largestPacket = 0;

  constructor(seed: number, conditions: Partial<NetworkConditions> = {}) {
    this.random = seededRandom(seed);
    this.conditions = { lossRate: 0, minDelayMs: 1, maxDelayMs: 5, duplicateRate: 0, ...conditions };
  }

  get now(): number {
    return this.scheduler.now;
  }

  /** Adds a member's endpoint; returns its transport and a clock whose timers honour its stalls and crash. */
  addNode(address: string, stall?: StallSchedule): { transport: Transport; clock: Clock } {
    const node: SimNode = { address, handlers: undefined, crashed: false, stall };
    this.nodes.set(address, node);
    return { transport: new SimulatedTransport(this, node), clock: new SimulatedClock(this, node) };
  }

  /** The member stops: nothing reaches it, it sends nothing, its timers never fire. */
  crash(address: string): void {
    const node = this.nodes.get(address);
    if (node) node.crashed = true;
  }

  /** Drops everything from `from` to `to` (one direction). */
  block(from: string, to: string): void {
    this.blocked.add(`${from}>${to}`);
  }

  unblock(from: string, to: string): void {
    this.blocked.delete(`${from}>${to}`);
  }

  healAll(): void {
    this.blocked.clear();
  }

  run(ms: number): void {
    this.scheduler.runUntil(this.scheduler.now + ms);
  }

  /** Runs until `done()` holds (checked every `stepMs`) or `maxMs` pass; returns the simulated time taken, or undefined. */
  runUntil(done: () => boolean, maxMs: number, stepMs = 10): number | undefined {
    const start = this.now;
    while (this.now - start < maxMs) {
      if (done()) return this.now - start;
      this.run(stepMs);
    }
    return done() ? this.now - start : undefined;
  }

  /** Runs `fn` on behalf of `node` at `at`, later if the node is stalled then; never if it has crashed or the handle is cancelled. */
  runOn(node: SimNode, at: number, fn: () => void): Cancellable {
    const handle: Cancellable = { cancelled: false };
    const attempt = (): void => {
      if (handle.cancelled || node.crashed) return;
      const resumeAt = stallEnd(node.stall, this.now);
      if (resumeAt !== undefined) {
        this.scheduler.schedule(resumeAt, attempt);
        return;
      }
      fn();
    };
    this.scheduler.schedule(at, attempt);
    return handle;
  }

  sendPacket(from: SimNode, to: string, data: Uint8Array): void {
    if (from.crashed) return;
    this.packetsSent++;
    if (data.length > this.largestPacket) this.largestPacket = data.length;
    const target = this.nodes.get(to);
    const copies = this.random() < this.conditions.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      if (!target || this.blocked.has(`${from.address}>${to}`) || this.random() < this.conditions.lossRate) continue;
      this.runOn(target, this.now + this.delay(), () => {
        this.packetsDelivered++;
        target.handlers?.packet(from.address, data);
      });
    }
  }

  request(from: SimNode, to: string, data: Uint8Array, timeoutMs: number, callback: RequestCallback): void {
    let settled = false;
    const settle = (error: Error | undefined, reply?: Uint8Array): void => {
      if (settled) return;
      settled = true;
      callback(error, reply);
    };
    const timeout = this.runOn(from, this.now + timeoutMs, () => settle(new Error(`request to ${to} timed out`)));
    const target = this.nodes.get(to);
    if (!target || target.crashed) {
      this.runOn(from, this.now + this.delay() * 2, () => settle(new Error(`connection to ${to} refused`)));
      return;
    }
    if (this.blocked.has(`${from.address}>${to}`)) return;
    this.runOn(target, this.now + this.delay(), () => {
      target.handlers?.stream(from.address, data, (reply) => {
        if (target.crashed || this.blocked.has(`${to}>${from.address}`)) return;
        this.runOn(from, this.now + this.delay(), () => {
          timeout.cancelled = true;
          settle(undefined, reply);
        });
      });
    });
  }

  private delay(): number {
    const { minDelayMs, maxDelayMs } = this.conditions;
    return minDelayMs + this.random() * (maxDelayMs - minDelayMs);
  }
}

function stallEnd(stall: StallSchedule | undefined, now: number): number | undefined {
  if (!stall || now < stall.offsetMs) return undefined;
  const into = (now - stall.offsetMs) % stall.periodMs;
  return into < stall.durationMs ? now - into + stall.durationMs : undefined;
}

class SimulatedTransport implements Transport {
  private readonly network: SimulatedNetwork;
  private readonly node: SimNode;

  constructor(network: SimulatedNetwork, node: SimNode) {
    this.network = network;
    this.node = node;
  }

  get address(): string {
    return this.node.address;
  }

  setHandlers(handlers: TransportHandlers): void {
    this.node.handlers = handlers;
  }

  sendPacket(to: string, data: Uint8Array): void {
    this.network.sendPacket(this.node, to, data);
  }

  request(to: string, data: Uint8Array, timeoutMs: number, callback: RequestCallback): void {
    this.network.request(this.node, to, data, timeoutMs, callback);
  }

  close(): Promise<void> {
    this.node.crashed = true;
    return Promise.resolve();
  }
}

class SimulatedClock implements Clock {
  private readonly network: SimulatedNetwork;
  private readonly node: SimNode;
  private readonly events = new Map<number, Cancellable>();
  private nextId = 1;

  constructor(network: SimulatedNetwork, node: SimNode) {
    this.network = network;
    this.node = node;
  }

  now(): number {
    return this.network.now;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    const event = this.network.runOn(this.node, this.network.now + delayMs, () => {
      this.events.delete(id);
      fn();
    });
    this.events.set(id, event);
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    const event = this.events.get(handle.id);
    if (event) event.cancelled = true;
    this.events.delete(handle.id);
  }
}
