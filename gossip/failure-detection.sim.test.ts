import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LAN_CONFIG, suspicionBounds } from './config.ts';
import { SimulatedCluster } from './simulation/simulated-cluster.ts';

const N = 100;

test('a crashed member is declared dead by every other member within the suspicion bounds (N = 100, LAN defaults)', () => {
  const cluster = new SimulatedCluster({ size: N, seed: 11 });
  cluster.network.run(5_000);
  const { minMs, maxMs } = suspicionBounds(DEFAULT_LAN_CONFIG, N);
  assert.equal(minMs, 8_000);
  assert.equal(maxMs, 48_000);

  cluster.crash(17);
  const crashedAt = cluster.network.now;
  const others = new Set([17]);
  const took = cluster.network.runUntil(() => cluster.countSeeing('m17', (status) => status === 'dead', others) === N - 1, 120_000, 50);
  assert.ok(took !== undefined, 'every member saw the death');
  const declaredAt = cluster.members.filter((_, i) => i !== 17).map((m) => (m.member('m17')?.statusChangedAt ?? 0) - crashedAt);
  const slack = 5 * DEFAULT_LAN_CONFIG.probeIntervalMs;
  assert.ok(Math.min(...declaredAt) >= minMs, `nobody declares death before the minimum suspicion timeout (first: ${Math.min(...declaredAt)} ms)`);
  assert.ok(Math.max(...declaredAt) <= maxMs + slack, `all declared within max + ${slack} ms (last: ${Math.max(...declaredAt)} ms)`);
  console.log(`# crash → dead everywhere in ${(took / 1000).toFixed(1)} s simulated (bounds ${minMs / 1000}–${maxMs / 1000} s)`);
});

test('10 % packet loss and a member stalling 2 s of every 10 s for 30 simulated minutes: no member is declared dead', () => {
  const stalled = 5;
  const cluster = new SimulatedCluster({
    size: N,
    seed: 12,
    conditions: { lossRate: 0.1 },
    stalls: new Map([[stalled, { periodMs: 10_000, durationMs: 2_000, offsetMs: 3_000 }]]),
  });
  let deaths = 0;
  let suspicions = 0;
  for (const member of cluster.members) {
    member.onEvent((event) => {
      if (event.type === 'leave') deaths++;
      if (event.type === 'update' && event.member.status === 'suspect') suspicions++;
    });
  }
  cluster.network.run(30 * 60_000);
  assert.equal(deaths, 0);
  const refutations = cluster.members.reduce((sum, m) => sum + m.stats.refutations, 0);
  assert.ok(cluster.member(stalled).stats.refutations > 0, 'the stalled member was suspected and refuted it');
  assert.ok(cluster.members.every((m) => m.allMembers().every((v) => v.status !== 'dead')));
  console.log(`# 30 min, 10 % loss, one stalling member: 0 deaths, ${suspicions} suspicion notices, ${refutations} refutations`);
});

test('a one-way partition between two members does not kill either: indirect probes vouch for them', () => {
  const cluster = new SimulatedCluster({ size: 20, seed: 13 });
  const a = cluster.member(1).localMember.addr;
  const b = cluster.member(2).localMember.addr;
  cluster.network.block(a, b);
  cluster.network.run(3 * 60_000);
  assert.equal(cluster.countSeeing('m2', (s) => s === 'dead'), 0);
  assert.equal(cluster.countSeeing('m1', (s) => s === 'dead'), 0);
  assert.ok(cluster.member(1).stats.indirectProbes > 0);
});

test('a falsely suspected member refutes with a higher incarnation and everyone sees it alive again', () => {
  const cluster = new SimulatedCluster({ size: 30, seed: 14, stalls: new Map([[3, { periodMs: 1_000_000, durationMs: 3_500, offsetMs: 2_000 }]]) });
  cluster.network.run(2_000 + 3_500 + 5_000);
  assert.ok(cluster.member(3).localMember.incarnation > 0, 'refuted at least once');
  assert.equal(cluster.countSeeing('m3', (s) => s === 'alive'), 30);
});

test('a graceful leave reaches every member as left, never as a failure', async () => {
  const cluster = new SimulatedCluster({ size: 50, seed: 15 });
  cluster.network.run(2_000);
  const leaving = cluster.member(9).leave(5_000);
  const took = cluster.network.runUntil(() => cluster.countSeeing('m9', (s) => s === 'left', new Set([9])) === 49, 5_000, 10);
  cluster.network.run(5_000);
  await leaving;
  assert.ok(took !== undefined && took < 2_000, `everyone saw the leave in ${took} ms`);
  assert.equal(cluster.members.reduce((n, m) => n + m.stats.membersDeclaredDead, 0), 0);
});

test('a member restarted under the same name refutes its own death and is alive again everywhere', () => {
  const cluster = new SimulatedCluster({ size: 20, seed: 16 });
  cluster.network.run(2_000);
  cluster.crash(4);
  cluster.network.runUntil(() => cluster.countSeeing('m4', (s) => s === 'dead', new Set([4])) === 19, 60_000, 100);
  cluster.restart(4);
  const took = cluster.network.runUntil(() => cluster.countSeeing('m4', (s) => s === 'alive') === 20, 30_000, 50);
  assert.ok(took !== undefined, 'the restarted member is alive everywhere');
  assert.ok(cluster.member(4).localMember.incarnation > 0);
});

test('no packet exceeds the 1400-byte UDP budget, even with a backlog of broadcasts', () => {
  const cluster = new SimulatedCluster({ size: 200, seed: 17, converged: false });
  void Promise.all(cluster.members.slice(1).map((m) => m.join([cluster.member(0).localMember.addr])));
  cluster.network.run(20_000);
  assert.ok(cluster.network.largestPacket <= DEFAULT_LAN_CONFIG.udpBufferSize, `largest packet ${cluster.network.largestPacket} bytes`);
  assert.ok(cluster.network.largestPacket > 1_000, 'the backlog did fill packets');
});

test('duplicated and reordered packets (30 % duplicates, 1–80 ms delay) cause no false deaths and do not hide a real one', () => {
  const cluster = new SimulatedCluster({ size: 50, seed: 18, conditions: { duplicateRate: 0.3, minDelayMs: 1, maxDelayMs: 80 } });
  cluster.network.run(5 * 60_000);
  assert.equal(cluster.members.reduce((n, m) => n + m.stats.membersDeclaredDead, 0), 0);
  cluster.crash(3);
  const took = cluster.network.runUntil(() => cluster.countSeeing('m3', (s) => s === 'dead', new Set([3])) === 49, 60_000, 100);
  assert.ok(took !== undefined, 'the crash was detected by all');
});
