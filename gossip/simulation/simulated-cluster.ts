import type { GossipConfig } from '../config.ts';
import type { Keyring } from '../keyring.ts';
import { Memberlist } from '../memberlist.ts';
import type { MemberState } from '../messages.ts';
import { seededRandom } from './seeded-random.ts';
import { SimulatedNetwork, type NetworkConditions, type StallSchedule } from './simulated-network.ts';

export interface SimulatedClusterOptions {
  size: number;
  seed: number;
  conditions?: Partial<NetworkConditions>;
  config?: Partial<GossipConfig>;
  /** Members (by index) whose event loop stalls. */
  stalls?: ReadonlyMap<number, StallSchedule>;
  /** Keyring of each member (by index); none means cleartext. */
  keyringFor?: (index: number) => Keyring | undefined;
  /** Start from a converged member table instead of joining through member 0. */
  converged?: boolean;
}

/** N members on one simulated network, named `m0…`, at `10.0.x.y:7946`. */
export class SimulatedCluster {
  readonly network: SimulatedNetwork;
  readonly members: Memberlist[] = [];
  private readonly config: Partial<GossipConfig>;
  private readonly seed: number;

  constructor(options: SimulatedClusterOptions) {
    this.network = new SimulatedNetwork(options.seed, options.conditions);
    this.config = options.config ?? {};
    this.seed = options.seed;
    const states: MemberState[] = [];
    for (let i = 0; i < options.size; i++) {
      const address = `10.0.${i >> 8}.${i & 255}:7946`;
      const { transport, clock } = this.network.addNode(address, options.stalls?.get(i));
      const member = new Memberlist({
        name: `m${i}`,
        transport,
        clock,
        config: options.config ?? {},
        random: seededRandom(options.seed * 7919 + i),
        ...(options.keyringFor?.(i) ? { keyring: options.keyringFor(i) as Keyring } : {}),
      });
      this.members.push(member);
      states.push({ name: member.name, addr: address, incarnation: 0, status: 'alive', meta: new Uint8Array(0) });
    }
    if (options.converged ?? true) for (const member of this.members) member.installMembers(states);
    for (const member of this.members) member.start();
  }

  member(index: number): Memberlist {
    const member = this.members[index];
    if (!member) throw new RangeError(`no member ${index}`);
    return member;
  }

  /** Replaces member `index` with a fresh process under the same name and address, joining through member `seed`. */
  restart(index: number, seed = 0): Memberlist {
    const old = this.member(index);
    const address = old.localMember.addr;
    this.network.crash(address);
    const { transport, clock } = this.network.addNode(address);
    const member = new Memberlist({ name: old.name, transport, clock, config: this.config, random: seededRandom(this.seed * 104_729 + index) });
    this.members[index] = member;
    member.start();
    void member.join([this.member(seed).localMember.addr]);
    return member;
  }

  crash(index: number): void {
    this.network.crash(this.member(index).localMember.addr);
  }

  /** How many members, other than those in `except`, see `name` with `predicate` true. */
  countSeeing(name: string, predicate: (status: string, incarnation: number) => boolean, except: ReadonlySet<number> = new Set()): number {
    let n = 0;
    this.members.forEach((member, index) => {
      if (except.has(index)) return;
      const view = member.member(name);
      if (view && predicate(view.status, view.incarnation)) n++;
    });
    return n;
  }
}
