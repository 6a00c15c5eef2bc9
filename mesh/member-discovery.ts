import type { MemberView } from '../gossip/member.ts';
import type { Memberlist } from '../gossip/memberlist.ts';
import { decodeMemberMeta } from './member-meta.ts';

/** One endpoint of a Service as membership sees it (the shape the sidecar's discovery interface takes). */
export interface MemberEndpoint {
  address: string;
  zone?: string | undefined;
  weight: number;
  state: 'healthy' | 'suspect';
}

/**
 * Each Service's endpoints, built from the members advertising it: alive members are healthy, suspect ones are
 * marked so the balancer sends them less, dead and leaving members are gone. A new map is published on every
 * change that alters the result; metadata-only changes (a config version) do not wake subscribers.
 */
export class MemberDiscovery {
  private snapshot: ReadonlyMap<string, readonly MemberEndpoint[]> = new Map();
  private signature = '';
  private readonly listeners = new Set<() => void>();
  private readonly memberlist: Memberlist;
  private readonly unsubscribe: () => void;

  constructor(memberlist: Memberlist) {
    this.memberlist = memberlist;
    this.unsubscribe = memberlist.onEvent(() => this.refresh());
    this.refresh();
  }

  current(): ReadonlyMap<string, readonly MemberEndpoint[]> {
    return this.snapshot;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.unsubscribe();
    this.listeners.clear();
  }

  private refresh(): void {
    const next = endpointsFromMembers(this.memberlist.allMembers());
    const signature = JSON.stringify([...next].sort(([a], [b]) => a.localeCompare(b)));
    if (signature === this.signature) return;
    this.signature = signature;
    this.snapshot = next;
    for (const listener of this.listeners) listener();
  }
}

export function endpointsFromMembers(members: readonly MemberView[]): Map<string, MemberEndpoint[]> {
  const services = new Map<string, MemberEndpoint[]>();
  for (const member of members) {
    if (member.status !== 'alive' && member.status !== 'suspect') continue;
    const meta = decodeMemberMeta(member.meta);
    if (!meta || meta.role !== 'sidecar' || !meta.service || !meta.address) continue;
    const list = services.get(meta.service) ?? [];
    list.push({ address: meta.address, zone: meta.zone, weight: 1, state: member.status === 'alive' ? 'healthy' : 'suspect' });
    services.set(meta.service, list);
  }
  for (const list of services.values()) list.sort((a, b) => a.address.localeCompare(b.address));
  return services;
}
