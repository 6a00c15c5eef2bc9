import type { MemberView } from '../gossip/member.ts';
import { decodeMemberMeta } from './member-meta.ts';

/** One row of `outrigger status`, as `istioctl proxy-status` shows each proxy's sync state. */
export interface MemberStatusRow {
  name: string;
  role: 'sidecar' | 'control-plane' | 'unknown';
  /** Gossip state: alive, suspect, dead, left. */
  status: string;
  gossipAddress: string;
  service: string | undefined;
  address: string | undefined;
  zone: string | undefined;
  configVersion: number;
  configHash: string;
  /** synced: runs the newest snapshot any alive member runs; stale: behind it; rejected: refused a newer one; none: no snapshot yet. */
  sync: 'synced' | 'stale' | 'rejected' | 'none';
  error: string | undefined;
  api: string | undefined;
}

export function memberStatusRows(members: readonly MemberView[]): MemberStatusRow[] {
  const decoded = members.map((member) => ({ member, meta: decodeMemberMeta(member.meta) }));
  let newest = { version: 0, hash: '' };
  for (const { member, meta } of decoded) {
    if (!meta || member.status !== 'alive') continue;
    if (meta.configVersion > newest.version || (meta.configVersion === newest.version && meta.configHash > newest.hash)) {
      newest = { version: meta.configVersion, hash: meta.configHash };
    }
  }
  return decoded
    .map(({ member, meta }): MemberStatusRow => {
      const version = meta?.configVersion ?? 0;
      const hash = meta?.configHash ?? '';
      let sync: MemberStatusRow['sync'] = 'none';
      if (meta?.rejected && meta.rejected.version >= version) sync = 'rejected';
      else if (version > 0) sync = version === newest.version && hash === newest.hash ? 'synced' : 'stale';
      return {
        name: member.name,
        role: meta?.role ?? 'unknown',
        status: member.status,
        gossipAddress: member.addr,
        service: meta?.service,
        address: meta?.address,
        zone: meta?.zone,
        configVersion: version,
        configHash: hash,
        sync,
        error: meta?.rejected?.error,
        api: meta?.api,
      };
    })
    .sort((a, b) => a.role.localeCompare(b.role) || a.name.localeCompare(b.name));
}
