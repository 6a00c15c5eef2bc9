import type { MemberStatus } from './messages.ts';
import type { Suspicion } from './suspicion.ts';

/** A member as callers see it. `meta` is the application's (≤ 512 bytes): what it serves, which config it runs. */
export interface MemberView {
  readonly name: string;
  readonly addr: string;
  readonly incarnation: number;
  readonly status: MemberStatus;
  readonly meta: Uint8Array;
  /** Clock time of the last status change. */
  readonly statusChangedAt: number;
}

export interface MemberRecord {
  name: string;
  addr: string;
  incarnation: number;
  status: MemberStatus;
  meta: Uint8Array;
  statusChangedAt: number;
  suspicion: Suspicion | undefined;
}

export type MembershipEvent =
  | { type: 'join'; member: MemberView }
  | { type: 'update'; member: MemberView }
  | { type: 'leave'; member: MemberView };

export function viewOf(record: MemberRecord): MemberView {
  return {
    name: record.name,
    addr: record.addr,
    incarnation: record.incarnation,
    status: record.status,
    meta: record.meta,
    statusChangedAt: record.statusChangedAt,
  };
}

export function isGone(status: MemberStatus): boolean {
  return status === 'dead' || status === 'left';
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
