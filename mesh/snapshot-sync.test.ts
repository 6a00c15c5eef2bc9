import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SystemClock } from '../gossip/clock.ts';
import { Memberlist } from '../gossip/memberlist.ts';
import { UdpTcpTransport } from '../gossip/udp-tcp-transport.ts';
import { generateSigningKeys } from '../policy/snapshot/keys.ts';
import { signSnapshot } from '../policy/snapshot/sign.ts';
import { decodeSignedSnapshot, encodeSignedSnapshot, makeSnapshot } from '../policy/snapshot/snapshot.ts';
import { createLogger } from './log.ts';
import { encodeMemberMeta } from './member-meta.ts';
import { SNAPSHOT_REQUEST, SnapshotSync, type SyncState } from './snapshot-sync.ts';

const quiet = createLogger('test', { level: 'error', write: () => {} });
const fast = { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, pushPullIntervalMs: 1_000 };
const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of closers) await close();
});

const signing = generateSigningKeys();
const privateKey = createPrivateKey(signing.privateKeyPem);
const publicKey = createPublicKey(signing.publicKeyPem);
const otherKey = createPrivateKey(generateSigningKeys().privateKeyPem);

function routeText(marker: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: catalog
  namespace: default
spec:
  parentRefs: [{ name: catalog, kind: Service, group: "" }]
  rules:
    - filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: x-config, value: "${marker}" }] } }]
      backendRefs: [{ name: catalog, port: 80 }]
`;
}

function signed(version: number, marker: string, key = privateKey): Uint8Array {
  return encodeSignedSnapshot(signSnapshot(makeSnapshot(version, [{ name: 'route.yaml', text: routeText(marker) }]), key));
}

async function member(name: string, join: string[], meta: Uint8Array): Promise<Memberlist> {
  const transport = await UdpTcpTransport.bind({ host: '127.0.0.1', port: 0 });
  const memberlist = new Memberlist({ name, transport, clock: new SystemClock(), config: fast, meta });
  memberlist.start();
  if (join.length > 0) await memberlist.join(join);
  closers.push(() => memberlist.shutdown());
  return memberlist;
}

interface Victim {
  memberlist: Memberlist;
  sync: SnapshotSync;
  applied: string[];
  states: SyncState[];
}

async function victim(name: string, stateDir?: string): Promise<Victim> {
  const memberlist = await member(name, [], encodeMemberMeta({ role: 'sidecar', configVersion: 0, configHash: '' }));
  const applied: string[] = [];
  const states: SyncState[] = [];
  const sync = new SnapshotSync({
    memberlist,
    publicKeys: [publicKey],
    stateDir,
    loadOptions: { requireEndpoints: false },
    apply: (snapshot) => {
      applied.push(`v${snapshot.version}`);
      return Promise.resolve({ ok: true });
    },
    onStateChange: (state) => {
      states.push(state);
      memberlist.updateMeta(encodeMemberMeta({ role: 'sidecar', configVersion: state.version, configHash: state.hash, rejected: state.rejected }));
    },
    log: quiet,
    recheckMs: 100,
  });
  sync.start();
  closers.unshift(() => Promise.resolve(sync.close()));
  return { memberlist, sync, applied, states };
}

/** A member that advertises `version` and serves `bytes` for it, whatever they are. */
async function impostor(name: string, joinAddr: string, version: number, bytes: Uint8Array): Promise<Memberlist> {
  const m = await member(name, [joinAddr], encodeMemberMeta({ role: 'control-plane', configVersion: version, configHash: 'f'.repeat(16) }));
  m.handle(SNAPSHOT_REQUEST, () => bytes);
  return m;
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('bad snapshots from a peer are rejected with a reason, never applied, not refetched in a loop; the last good one stays', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'outrigger-sync-'));
  const v = await victim('victim', dir);
  assert.equal(await v.sync.publish(signed(2, 'good')), true);
  assert.deepEqual(v.applied, ['v2']);

  const genuine = signed(3, 'evil');
  const tampered = new Uint8Array(genuine);
  tampered[tampered.length - 20] = (tampered[tampered.length - 20] ?? 0) ^ 0x01;
  const { payload } = decodeSignedSnapshot(signed(3, 'unsigned'));
  const unsigned = encodeSignedSnapshot({ payload, signature: new Uint8Array(0), keyId: '' });
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['tampered', tampered, /bad-signature|hash-mismatch/],
    ['replayed-old', signed(1, 'old'), /stale/],
    ['unsigned', unsigned, /unsigned|malformed/],
    ['wrongly-signed', signed(3, 'forged', otherKey), /unknown-key|bad-signature/],
  ];
  for (const [name, bytes, reason] of cases) {
    const fetchesBefore = v.sync.fetches;
    const rejectionsBefore = v.sync.rejections;
    await impostor(name, v.memberlist.localMember.addr, 9, bytes);
    await until(() => v.sync.rejections > rejectionsBefore);
    assert.match(v.sync.state.rejected?.error ?? '', reason, name);
    assert.equal(v.sync.state.version, 2, `${name}: still on the last good snapshot`);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(v.sync.fetches - fetchesBefore, 1, `${name}: fetched once, not in a loop`);
  }
  assert.deepEqual(v.applied, ['v2'], 'nothing bad was applied');
});

test('a genuine newer snapshot from any peer is fetched, applied, persisted and advertised; a restart restores it from disk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'outrigger-sync-'));
  const v = await victim('fresh', dir);
  await impostor('holder', v.memberlist.localMember.addr, 4, signed(4, 'four'));
  await until(() => v.sync.state.version === 4);
  assert.deepEqual(v.applied, ['v4']);
  assert.equal(v.sync.state.rejected, undefined);

  const restarted = await victim('fresh-again', dir);
  assert.equal(await restarted.sync.restore(), true);
  assert.equal(restarted.sync.state.version, 4);
  assert.deepEqual(restarted.applied, ['v4']);
});

test('two replicas that published different content at one version settle on the same snapshot without a leader', async () => {
  const a = await victim('replica-a');
  const b = await victim('replica-b');
  await b.memberlist.join([a.memberlist.localMember.addr]);
  const one = signed(5, 'from-a');
  const two = signed(5, 'from-b');
  await a.sync.publish(one);
  await b.sync.publish(two);
  await until(() => a.sync.state.hash === b.sync.state.hash);
  assert.equal(a.sync.state.version, 5);
  assert.equal(b.sync.state.version, 5);
});
