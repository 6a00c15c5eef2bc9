import type { Awareness } from './awareness.ts';
import type { BroadcastQueue } from './broadcast-queue.ts';
import type { Clock } from './clock.ts';
import type { GossipConfig } from './config.ts';
import type { GossipStats } from './gossip-stats.ts';
import type { MemberTable } from './member-table.ts';
import type { Transport } from './transport.ts';
import type { Wire } from './wire.ts';

export type GossipLog = (level: 'debug' | 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;

/** What the parts of one `Memberlist` share: its identity and services, and the state more than one part reads or changes. */
export interface MemberContext {
  readonly name: string;
  readonly config: Readonly<GossipConfig>;
  readonly stats: GossipStats;
  readonly transport: Transport;
  readonly clock: Clock;
  /** Uniform in [0, 1); seeded in simulations so a failing run can be replayed. */
  readonly random: () => number;
  readonly wire: Wire;
  readonly log: GossipLog;
  readonly members: MemberTable;
  readonly queue: BroadcastQueue;
  readonly awareness: Awareness;
  /** Members declared dead (not left), by name, still worth a reconnect attempt; outlives the member table's reaping. */
  readonly failed: Map<string, { addr: string; since: number }>;
  leaving: boolean;
  closed: boolean;
}
