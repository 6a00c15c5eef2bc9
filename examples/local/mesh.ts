import { join } from 'node:path';
import { SIDECAR_NODE_FLAGS } from '../../cli/node-flags.ts';
import type { DemoKeys } from './keys.ts';
import type { Layout, Member } from './layout.ts';
import { waitFor, type ProcessGroup } from './processes.ts';

export interface MeshPaths {
  cli: string;
  apps: string;
  policies: string;
}

export interface MeshStart {
  group: ProcessGroup;
  layout: Layout;
  keys: DemoKeys;
  paths: MeshPaths;
  /** Environment of the sidecars (tracing on or off). */
  sidecarEnv: NodeJS.ProcessEnv;
  log: (name: string) => (line: string) => void;
  describe: () => string;
}

/** Starts the control plane on the committed policy folder and waits until it has signed its first snapshot. */
export async function startControlPlane(m: MeshStart): Promise<void> {
  const { api, gossip } = m.layout.controlPlane;
  m.group.start('control plane', [
    ...SIDECAR_NODE_FLAGS, m.paths.cli, 'control-plane', '--name', 'control-plane',
    '--config', m.paths.policies, '--signing-key', m.keys.signingKey, '--gossip-key', m.keys.gossipKey,
    '--gossip-port', String(gossip), '--api-port', String(api),
  ], m.log('control plane'));
  await waitFor(`http://127.0.0.1:${api}/readyz`, 20_000, m.group, m.describe);
}

function sidecarArgs(m: MeshStart, member: Member): string[] {
  return [
    ...SIDECAR_NODE_FLAGS, m.paths.cli, 'sidecar', '--service', member.service, '--name', member.name,
    '--app', `127.0.0.1:${member.app}`, '--inbound', String(member.inbound), '--inbound-host', '127.0.0.1',
    '--outbound', String(member.outbound), '--admin', String(member.admin), '--drain-seconds', '0',
    '--join', `127.0.0.1:${m.layout.controlPlane.gossip}`, '--gossip-port', String(member.gossip),
    '--mesh-key', m.keys.publicKey, '--gossip-key', m.keys.gossipKey,
  ];
}

/** Starts every app and its meshed sidecar, then waits for each sidecar's /ready. */
export async function startMembers(m: MeshStart): Promise<void> {
  for (const member of m.layout.members) {
    const extra = member.service === 'frontend' ? ['--outbound', String(member.outbound)] : member.appArgs;
    m.group.start(member.name, [join(m.paths.apps, `${member.service}.ts`), '--name', member.name, '--port', String(member.app), ...extra], m.log(member.name));
    m.group.start(`${member.name} sidecar`, sidecarArgs(m, member), m.log(`${member.name} sidecar`), m.sidecarEnv);
  }
  for (const member of m.layout.members) await waitFor(`http://127.0.0.1:${member.admin}/ready`, 30_000, m.group, m.describe);
}

interface ClustersView {
  services?: { service: string; endpoints: unknown[] }[];
}

/** Waits until the frontend's sidecar has discovered, through gossip, every replica of the Services it calls. */
export async function awaitDiscovery(m: MeshStart): Promise<void> {
  const frontend = m.layout.frontend;
  const want = new Map<string, number>();
  for (const x of m.layout.members) if (x.service !== 'frontend') want.set(`${x.service}.default`, (want.get(`${x.service}.default`) ?? 0) + 1);
  await waitFor(`http://127.0.0.1:${frontend.admin}/clusters`, 20_000, m.group, m.describe, (status, body) => {
    if (status !== 200) return false;
    const services = (JSON.parse(body) as ClustersView).services ?? [];
    return [...want].every(([key, count]) => (services.find((s) => s.service === key)?.endpoints.length ?? 0) >= count);
  });
}
