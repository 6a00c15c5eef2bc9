import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getJson, send } from './support/client.ts';
import { runLoad } from './support/load.ts';
import { freePort } from './support/local-tools.ts';
import { startControlPlaneProcess, startMeshSidecarProcess, writeMeshKeys, type ControlPlaneProcess, type MeshKeys } from './support/mesh-processes.ts';
import type { SidecarProcess } from './support/sidecar-process.ts';
import { echo, startUpstream, type TestUpstream } from './support/upstream.ts';

const SIDECARS = 20;

function routeYaml(marker: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: catalog
  namespace: default
spec:
  parentRefs:
    - name: catalog
      kind: Service
      group: ""
  rules:
    - filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            set:
              - name: x-config
                value: ${marker}
      backendRefs:
        - name: catalog
          port: 80
`;
}

/** Replaces the file by rename, as editors and ConfigMap updates do. */
function writePolicy(dir: string, marker: string): void {
  const temp = join(dir, '.route.yaml.tmp');
  writeFileSync(temp, routeYaml(marker));
  renameSync(temp, join(dir, 'route.yaml'));
}

async function snapshotVersion(sidecar: SidecarProcess): Promise<number> {
  const { body } = await getJson<{ source?: string }>(sidecar.adminPort, '/config_dump');
  const match = /snapshot v(\d+)/.exec(body.source ?? '');
  return match ? Number(match[1]) : 0;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await condition()) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function viaFrontend(sidecar: SidecarProcess): Promise<{ status: number; marker: string | undefined }> {
  const response = await send(sidecar.outboundPort, { path: '/item', headers: { host: 'catalog' } });
  const body = response.status === 200 ? (JSON.parse(response.body) as { headers: Record<string, string> }) : undefined;
  return { status: response.status, marker: body?.headers['x-config'] };
}

describe(`a control plane and ${SIDECARS} sidecars on loopback, gossiping`, () => {
  let keys: MeshKeys;
  let policyDir: string;
  let controlPlane: ControlPlaneProcess | undefined;
  const apps: TestUpstream[] = [];
  const sidecars: SidecarProcess[] = [];
  const gossipOf = (i: number): string => {
    const address = sidecars[i]?.gossipAddress;
    if (!address) throw new Error(`sidecar ${i} has no gossip address`);
    return address;
  };

  before(async () => {
    keys = writeMeshKeys();
    policyDir = mkdtempSync(join(tmpdir(), 'outrigger-mesh-policy-'));
    writePolicy(policyDir, 'v1');
    controlPlane = await startControlPlaneProcess({ config: policyDir, keys, name: 'cp-a' });
    for (let i = 0; i < SIDECARS; i++) apps.push(await startUpstream(echo, `app-${i}`));
    const seeds = [controlPlane.gossipAddress];
    // Half serve catalog (so it has 10 discovered endpoints), half are its clients.
    // Each sidecar is kept as soon as it is up, so a failed start still leaves every process to after().
    for (let batch = 0; batch < SIDECARS; batch += 4) {
      await Promise.all(
        Array.from({ length: Math.min(4, SIDECARS - batch) }, async (_, j) => {
          const i = batch + j;
          sidecars[i] = await startMeshSidecarProcess({ service: i % 2 === 0 ? 'catalog' : 'frontend', app: apps[i]!.address, keys, join: seeds, name: `sidecar-${i}` });
        }),
      );
    }
    await waitFor(async () => (await Promise.all(sidecars.map(snapshotVersion))).every((v) => v >= 1), 20_000, 'every sidecar on snapshot v1');
  });

  after(async () => {
    await Promise.all(sidecars.filter(Boolean).map((s) => s.stop()));
    await controlPlane?.stop();
    await Promise.all(apps.map((a) => a.close()));
  });

  it('routes by discovered endpoints and the pushed policy', async () => {
    const frontend = sidecars[1]!;
    await waitFor(async () => (await getJson<{ ready: boolean }>(frontend.adminPort, '/ready')).status === 200, 5_000, 'frontend ready');
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const response = await send(frontend.outboundPort, { path: '/item', headers: { host: 'catalog' } });
      assert.equal(response.status, 200);
      const body = JSON.parse(response.body) as { headers: Record<string, string> };
      assert.equal(body.headers['x-config'], 'v1');
      seen.add(String(response.headers['x-served-by']));
    }
    assert.ok(seen.size >= 5, `requests spread over the discovered catalog endpoints (${[...seen].join(', ')})`);
  });

  it(`a policy edit reaches all ${SIDECARS} sidecars`, async () => {
    const before = await snapshotVersion(sidecars[0]!);
    const editedAt = performance.now();
    writePolicy(policyDir, 'v2');
    await waitFor(async () => (await Promise.all(sidecars.map(snapshotVersion))).every((v) => v > before), 15_000, 'every sidecar on the edited snapshot');
    const took = performance.now() - editedAt;
    assert.equal((await viaFrontend(sidecars[3]!)).marker, 'v2');
    console.log(`# policy edit → all ${SIDECARS} sidecars applied it in ${took.toFixed(0)} ms (includes the 100 ms edit debounce)`);
  });

  it('with the control plane killed, traffic under load sees zero failed requests', async () => {
    let stopped = false;
    const load = Promise.all([sidecars[1]!, sidecars[3]!].map((s) => runLoad(s.outboundPort, 'catalog', 4, 6_000, () => stopped)));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await controlPlane!.stop('SIGKILL');
    controlPlane = undefined;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    stopped = true;
    const results = await load;
    const sent = results.reduce((n, r) => n + r.sent, 0);
    const failures = results.flatMap((r) => [...r.failures]);
    assert.ok(sent > 200, `load ran (${sent} requests)`);
    assert.deepEqual(failures, [], 'no request failed');
    console.log(`# control plane killed under load: ${sent} requests, 0 failed`);
  });

  it('a new sidecar bootstraps its config from peers while no control plane runs', async () => {
    const app = await startUpstream(echo, 'app-late');
    apps.push(app);
    const latest = await snapshotVersion(sidecars[0]!);
    const late = await startMeshSidecarProcess({ service: 'frontend', app: app.address, keys, join: [gossipOf(5)], name: 'sidecar-late' });
    sidecars.push(late);
    await waitFor(async () => (await snapshotVersion(late)) === latest, 10_000, 'the late sidecar on the mesh snapshot');
    assert.equal((await getJson(late.adminPort, '/ready')).status, 200);
    assert.equal((await viaFrontend(late)).marker, 'v2');
  });

  it('a restarted control plane with an empty disk catches up and its next edit reaches everyone', async () => {
    const running = await snapshotVersion(sidecars[0]!);
    controlPlane = await startControlPlaneProcess({ config: policyDir, keys, name: 'cp-b', join: [gossipOf(2)], stateDir: mkdtempSync(join(tmpdir(), 'outrigger-cp-state-')) });
    const members = await getJson<{ newest: { version: number }; members: { name: string; sync: string; status: string }[] }>(controlPlane.apiPort, '/members');
    assert.equal(members.body.newest.version, running, 'the restarted replica runs what the mesh runs, not a fresh v1');
    writePolicy(policyDir, 'v3');
    await waitFor(async () => (await Promise.all(sidecars.map(snapshotVersion))).every((v) => v > running), 15_000, 'every sidecar on the new replica\'s snapshot');
    assert.equal((await viaFrontend(sidecars[1]!)).marker, 'v3');
    const status = await getJson<{ members: { name: string; sync: string; status: string }[] }>(controlPlane.apiPort, '/members');
    const alive = status.body.members.filter((m) => m.status === 'alive');
    assert.equal(alive.length, SIDECARS + 2);
    await waitFor(
      async () => (await getJson<{ members: { status: string; sync: string }[] }>(controlPlane!.apiPort, '/members')).body.members.filter((m) => m.status === 'alive').every((m) => m.sync === 'synced'),
      5_000,
      'every alive member reported synced',
    );
  });

  it('an invalid policy edit is refused by the control plane; the mesh keeps the last good snapshot', async () => {
    const running = await snapshotVersion(sidecars[0]!);
    writeFileSync(join(policyDir, 'broken.yaml'), 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: broken\nspec:\n  rules: 7\n');
    await waitFor(async () => (await getJson<{ policyError?: string }>(controlPlane!.apiPort, '/members')).body.policyError !== undefined, 5_000, 'the policy error reported');
    const { body } = await getJson<{ policyError: string }>(controlPlane!.apiPort, '/members');
    assert.match(body.policyError, /broken\.yaml:\d+:\d+/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await snapshotVersion(sidecars[0]!), running);
    assert.equal((await viaFrontend(sidecars[1]!)).marker, 'v3');
  });

  it('a restarted sidecar with a state dir serves its last good snapshot with no peer reachable at all', async () => {
    const app = await startUpstream(echo, 'app-disk');
    apps.push(app);
    const stateDir = mkdtempSync(join(tmpdir(), 'outrigger-sidecar-state-'));
    const running = await snapshotVersion(sidecars[0]!);
    const first = await startMeshSidecarProcess({ service: 'frontend', app: app.address, keys, join: [gossipOf(4)], name: 'sidecar-disk', stateDir });
    await waitFor(async () => (await snapshotVersion(first)) === running, 10_000, 'the first run on the mesh snapshot');
    await first.stop();
    const nobody = `127.0.0.1:${await freePort()}`;
    const second = await startMeshSidecarProcess({ service: 'frontend', app: app.address, keys, join: [nobody], name: 'sidecar-disk', stateDir });
    sidecars.push(second);
    assert.equal(await snapshotVersion(second), running, 'restored from disk before serving');
    assert.equal((await getJson(second.adminPort, '/ready')).status, 200);
  });
});
