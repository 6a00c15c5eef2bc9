import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pushPullInterval, DEFAULT_LAN_CONFIG } from './config.ts';
import { generateKey, Keyring } from './keyring.ts';
import { SimulatedCluster } from './simulation/simulated-cluster.ts';

/** Simulated ms until `share` of all members see member 0 at or above `incarnation`. */
function timeToReach(cluster: SimulatedCluster, incarnation: number, share: number, maxMs: number): number | undefined {
  const needed = Math.ceil(share * cluster.members.length);
  return cluster.network.runUntil(() => cluster.countSeeing('m0', (_status, inc) => inc >= incarnation) >= needed, maxMs, 10);
}

for (const [lossRate, boundMs] of [
  [0, 2_500],
  [0.5, 5_000],
] as const) {
  test(`an update reaches 99.99 % of 1 000 members within ${boundMs / 1000} s at ${lossRate * 100} % packet loss`, () => {
    const cluster = new SimulatedCluster({ size: 1_000, seed: 23, conditions: { lossRate } });
    // Long enough for members to have probed each other and sensed the loss.
    cluster.network.run(10_000);
    cluster.member(0).updateMeta(new TextEncoder().encode('config v2'));
    const incarnation = cluster.member(0).localMember.incarnation;
    const took = timeToReach(cluster, incarnation, 0.9999, 30_000);
    assert.ok(took !== undefined && took <= boundMs, `took ${took} ms`);
    console.log(`# 1 000 members, ${lossRate * 100} % loss: 99.99 % reached in ${((took ?? 0) / 1000).toFixed(2)} s simulated`);
  });
}

test('after a partition that outlasts gossip-to-the-dead heals, membership converges within two push/pull intervals', () => {
  const n = 40;
  const cluster = new SimulatedCluster({ size: n, seed: 22 });
  cluster.network.run(3_000);
  const addr = (i: number): string => cluster.member(i).localMember.addr;
  for (let a = 0; a < n / 2; a++) {
    for (let b = n / 2; b < n; b++) {
      cluster.network.block(addr(a), addr(b));
      cluster.network.block(addr(b), addr(a));
    }
  }
  cluster.network.run(60_000);
  assert.ok(cluster.members.every((m) => m.allMembers().filter((v) => v.status === 'alive').length <= n / 2), 'each side lost the other');
  cluster.network.healAll();
  const bound = 2 * pushPullInterval(DEFAULT_LAN_CONFIG.pushPullIntervalMs, n);
  const converged = (): boolean =>
    cluster.members.every((m) => {
      const all = m.allMembers();
      return all.length === n && all.every((v) => v.status === 'alive');
    });
  const took = cluster.network.runUntil(converged, bound, 100);
  assert.ok(took !== undefined, `converged within ${bound / 1000} s`);
  console.log(`# 40 members, 60 s partition: converged ${((took ?? 0) / 1000).toFixed(1)} s after healing (bound ${bound / 1000} s)`);
});

test('members that do not hold the cluster key are never admitted, and their packets are counted', () => {
  const key = generateKey();
  const cluster = new SimulatedCluster({ size: 10, seed: 23, converged: false, keyringFor: (i) => new Keyring([i === 9 ? generateKey() : key]) });
  for (const member of cluster.members.slice(1)) void member.join([cluster.member(0).localMember.addr]);
  cluster.network.run(20_000);
  assert.equal(cluster.countSeeing('m9', (s) => s === 'alive', new Set([9])), 0);
  assert.equal(cluster.member(0).allMembers().filter((v) => v.status === 'alive').length, 9);
  assert.ok(cluster.member(0).stats.packetsUnauthenticated > 0);
});

test('the cluster key rotates without a single suspicion: add the new key, make it primary, remove the old', () => {
  const oldKey = generateKey();
  const newKey = generateKey();
  const rings = Array.from({ length: 12 }, () => new Keyring([oldKey]));
  const cluster = new SimulatedCluster({ size: 12, seed: 24, keyringFor: (i) => rings[i] });
  cluster.network.run(5_000);
  for (const ring of rings) ring.addKey(newKey);
  cluster.network.run(5_000);
  // Members switch one by one, so for a while old and new primaries coexist.
  for (const ring of rings) {
    ring.useKey(newKey);
    cluster.network.run(500);
  }
  for (const ring of rings) ring.removeKey(oldKey);
  cluster.network.run(10_000);
  assert.equal(cluster.members.reduce((n, m) => n + m.stats.suspicionsRaised + m.stats.packetsUnauthenticated, 0), 0);
  assert.equal(cluster.countSeeing('m3', (s) => s === 'alive'), 12);
});

test('random bytes, truncated packets and replays of garbage are dropped and counted, never fatal', () => {
  const cluster = new SimulatedCluster({ size: 5, seed: 25 });
  const intruder = cluster.network.addNode('10.9.9.9:7946').transport;
  const random = cluster.network.random;
  for (let i = 0; i < 2_000; i++) {
    const bytes = new Uint8Array(1 + Math.floor(random() * 200)).map(() => Math.floor(random() * 256));
    if (i % 3 === 0) bytes[0] = 1;
    intruder.sendPacket(cluster.member(i % 5).localMember.addr, bytes);
    intruder.request(cluster.member(i % 5).localMember.addr, bytes, 1_000, () => {});
  }
  cluster.network.run(10_000);
  assert.ok(cluster.members.reduce((n, m) => n + m.stats.packetsMalformed, 0) > 1_000);
  assert.equal(cluster.countSeeing('m1', (s) => s === 'alive'), 5);
});

test('members that join through one seed all learn of each other', () => {
  const cluster = new SimulatedCluster({ size: 50, seed: 26, converged: false });
  for (const member of cluster.members.slice(1)) void member.join([cluster.member(0).localMember.addr]);
  const took = cluster.network.runUntil(() => cluster.members.every((m) => m.allMembers().filter((v) => v.status === 'alive').length === 50), 30_000, 50);
  assert.ok(took !== undefined, 'everyone knows everyone');
});
