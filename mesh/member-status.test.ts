import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemberView } from '../gossip/member.ts';
import type { MemberStatus } from '../gossip/messages.ts';
import { endpointsFromMembers } from './member-discovery.ts';
import { encodeMemberMeta, type MeshMemberMeta } from './member-meta.ts';
import { memberStatusRows } from './member-status.ts';

function view(name: string, status: MemberStatus, meta: MeshMemberMeta | undefined): MemberView {
  return { name, addr: `${name}:7946`, incarnation: 0, status, meta: meta ? encodeMemberMeta(meta) : new Uint8Array(0), statusChangedAt: 0 };
}

const members = [
  view('cp', 'alive', { role: 'control-plane', configVersion: 5, configHash: 'bb' }),
  view('a', 'alive', { role: 'sidecar', service: 'catalog.default', address: '10.0.0.1:15006', zone: 'z1', configVersion: 5, configHash: 'bb' }),
  view('b', 'suspect', { role: 'sidecar', service: 'catalog.default', address: '10.0.0.2:15006', configVersion: 4, configHash: 'aa' }),
  view('c', 'alive', { role: 'sidecar', service: 'catalog.default', address: '10.0.0.3:15006', configVersion: 4, configHash: 'aa', rejected: { version: 5, error: 'route.yaml:3:1: bad' } }),
  view('d', 'dead', { role: 'sidecar', service: 'catalog.default', address: '10.0.0.4:15006', configVersion: 5, configHash: 'bb' }),
  view('e', 'left', { role: 'sidecar', service: 'orders.default', address: '10.0.0.5:15006', configVersion: 5, configHash: 'bb' }),
  view('f', 'alive', { role: 'sidecar', service: 'orders.default', address: '10.0.0.6:15006', configVersion: 0, configHash: '' }),
  view('g', 'alive', undefined),
];

test('sync state per member: synced, stale, rejected, none', () => {
  const rows = new Map(memberStatusRows(members).map((r) => [r.name, r]));
  assert.equal(rows.get('cp')?.sync, 'synced');
  assert.equal(rows.get('a')?.sync, 'synced');
  assert.equal(rows.get('b')?.sync, 'stale');
  assert.equal(rows.get('c')?.sync, 'rejected');
  assert.equal(rows.get('c')?.error, 'route.yaml:3:1: bad');
  assert.equal(rows.get('f')?.sync, 'none');
  assert.equal(rows.get('g')?.role, 'unknown');
});

test('endpoints come from alive and suspect sidecars only; suspect ones are marked', () => {
  const services = endpointsFromMembers(members);
  assert.deepEqual(services.get('catalog.default'), [
    { address: '10.0.0.1:15006', zone: 'z1', weight: 1, state: 'healthy' },
    { address: '10.0.0.2:15006', zone: undefined, weight: 1, state: 'suspect' },
    { address: '10.0.0.3:15006', zone: undefined, weight: 1, state: 'healthy' },
  ]);
  assert.deepEqual(services.get('orders.default')?.map((e) => e.address), ['10.0.0.6:15006']);
  assert.equal(services.size, 2);
});
