import type { KeyObject } from 'node:crypto';
import type { Keyring } from '../gossip/keyring.ts';
import { createLogger } from '../mesh/log.ts';
import { MemberDiscovery } from '../mesh/member-discovery.ts';
import { startMeshMember, type MeshMember } from '../mesh/mesh-member.ts';
import { SignalReporter } from '../mesh/signals-reporter.ts';
import { SnapshotSync } from '../mesh/snapshot-sync.ts';
import type { ConfigStore } from './runtime/config-store.ts';
import { startSidecar, type RunningSidecar, type SidecarOptions } from './sidecar.ts';
import { storeUpstreamHealth } from './upstream-health.ts';

export interface SidecarMeshOptions {
  /** Member name, unique in the mesh. */
  name: string;
  zone?: string | undefined;
  gossipHost: string;
  gossipPort: number;
  /** Address peers reach this member's gossip port and inbound listener at; defaults to `gossipHost`. */
  advertiseHost?: string | undefined;
  join: readonly string[];
  keyring?: Keyring | undefined;
  /** Cluster label authenticated with encrypted packets. */
  clusterLabel?: string | undefined;
  /** Keys whose snapshot signatures are trusted. */
  publicKeys: readonly KeyObject[];
  stateDir?: string | undefined;
}

export interface MeshedSidecar extends RunningSidecar {
  readonly member: MeshMember;
  readonly sync: SnapshotSync;
}

/**
 * A sidecar that is also a mesh member: it advertises its Service and inbound address, takes every Service's
 * endpoints from the members advertising them, and runs the newest signed snapshot any peer holds (the last good
 * one from disk until then). Without `config` it reports ready only once it has a snapshot, as a proxy with no
 * policy would route nothing the way its owner meant.
 */
export async function startMeshedSidecar(options: SidecarOptions, mesh: SidecarMeshOptions): Promise<MeshedSidecar> {
  const log = createLogger(`mesh[${mesh.name}]`, { level: options.logLevel, format: options.logFormat });
  const serviceKey = `${options.service}.${options.namespace}`;
  const member = await startMeshMember({
    name: mesh.name,
    bindHost: mesh.gossipHost,
    port: mesh.gossipPort,
    advertiseHost: mesh.advertiseHost,
    join: mesh.join,
    keyring: mesh.keyring,
    config: { label: mesh.clusterLabel ?? '' },
    meta: { role: 'sidecar', service: serviceKey, zone: mesh.zone, configVersion: 0, configHash: '' },
    log,
  });
  const discovery = new MemberDiscovery(member.memberlist);
  const started: { store: ConfigStore | undefined } = { store: undefined };
  const snapshotSync = new SnapshotSync({
    memberlist: member.memberlist,
    publicKeys: mesh.publicKeys,
    stateDir: mesh.stateDir,
    loadOptions: { requireEndpoints: false },
    apply: async (snapshot) => {
      if (!started.store) return { ok: false, error: 'the sidecar is not started yet' };
      const status = await started.store.applyTexts(snapshot.files, `snapshot v${snapshot.version}`);
      if (status.ok) return { ok: true };
      const first = status.errors[0];
      return { ok: false, error: first ? `${first.file}:${first.line}:${first.column}: ${first.path}: ${first.message}` : 'rejected' };
    },
    onStateChange: (state) => member.setMeta({ configVersion: state.version, configHash: state.hash, rejected: state.rejected }),
    log,
  });
  let running: RunningSidecar;
  try {
    running = await startSidecar({
      ...options,
      discovery,
      readyGate: () => options.config !== undefined || snapshotSync.hasSnapshot,
      // Leaving tells peers to stop routing here while the pre-drain delay still serves what is in flight.
      onDrain: () => member.memberlist.leave(1_000),
      // The last good snapshot is in force before the first request can arrive.
      beforeListen: async (store) => {
        started.store = store;
        await snapshotSync.restore();
      },
    });
  } catch (error) {
    snapshotSync.close();
    discovery.close();
    await member.close();
    throw error;
  }
  const advertised = mesh.advertiseHost ?? mesh.gossipHost;
  member.setMeta({ address: `${advertised}:${running.inboundPort}`, api: `127.0.0.1:${running.adminPort}` });
  snapshotSync.start();
  const reporter = new SignalReporter({ memberlist: member.memberlist, service: serviceKey, source: running.signals, upstreamHealth: () => storeUpstreamHealth(running.store), log });
  reporter.start();
  return {
    ...running,
    member,
    sync: snapshotSync,
    async close() {
      reporter.close();
      await running.close();
      snapshotSync.close();
      discovery.close();
      await member.close();
    },
  };
}
