import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Server } from 'node:http';
import type { Keyring } from '../gossip/keyring.ts';
import { createLogger, type LogLevel } from '../mesh/log.ts';
import { decodeMemberMeta } from '../mesh/member-meta.ts';
import { startMeshMember, type MeshMember } from '../mesh/mesh-member.ts';
import { SnapshotSync } from '../mesh/snapshot-sync.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { SignalCollector } from '../mesh/signals-collector.ts';
import type { AutoscalingSignal } from '../policy/schema/autoscaling-signal.ts';
import { createApiServer, listenApi } from './api-server.ts';
import { createAutoscalingRoutes } from './autoscaling/index.ts';
import { createDashboardRoutes } from './dashboard/routes.ts';
import { resolveInjectorConfig, type InjectorConfig } from './injection/config.ts';
import { DEFAULT_WEBHOOK_PORT } from './injection/webhook-server.ts';
import { startSecureServer, type SecureServer } from './secure-server.ts';
import { SnapshotBuilder, type BuildResult } from './snapshot-builder.ts';

export interface ControlPlaneOptions {
  name: string;
  /** Policy folder turned into snapshots. */
  configDir: string;
  signingKey: KeyObject;
  /** Extra keys whose snapshots members accept (during a signing-key rotation). */
  extraPublicKeys?: readonly KeyObject[];
  gossipHost: string;
  gossipPort: number;
  advertiseHost?: string | undefined;
  join: readonly string[];
  keyring?: Keyring | undefined;
  /** Cluster label authenticated with encrypted packets. */
  clusterLabel?: string | undefined;
  stateDir?: string | undefined;
  apiHost: string;
  apiPort: number;
  logLevel?: LogLevel;
  logFormat?: 'text' | 'json';
  /** PEM files of the HTTPS port (sidecar injection webhook, external metrics API); that port is off without them. */
  tls?: { certFile: string; keyFile: string } | undefined;
  secureHost?: string | undefined;
  /** Default 15017 (Istio's injector port); 0 picks a free one. */
  securePort?: number | undefined;
  injector?: InjectorConfig | undefined;
  /** Also build snapshots from the cluster: HTTPRoutes, TrafficPolicies, AutoscalingSignals and EndpointSlices. */
  kubeConfig?: KubeConfig | undefined;
  /** Debounce of policy edits: build after this much quiet (100 ms)… */
  quietMs?: number;
  /** …and no later than this after the first edit of a burst (10 s). */
  maxWaitMs?: number;
}

export interface RunningControlPlane {
  readonly member: MeshMember;
  readonly sync: SnapshotSync;
  readonly apiPort: number;
  readonly securePort: number | undefined;
  readonly gossipAddress: string;
  close(): Promise<void>;
}

/**
 * One control-plane replica: a gossip member that turns the policy folder into signed snapshots and serves the
 * mesh's state. Replicas are peers: each builds from its folder, adopts a better snapshot from any member, and
 * never waits for another. Before its first build it joins and reads the versions the mesh already runs, so a
 * restarted replica continues the numbering instead of publishing a version members would refuse as a replay.
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<RunningControlPlane> {
  const log = createLogger(`control-plane[${options.name}]`, { level: options.logLevel ?? 'info', format: options.logFormat ?? 'text' });
  const publicKeys = [createPublicKey(options.signingKey), ...(options.extraPublicKeys ?? [])];
  const member = await startMeshMember({
    name: options.name,
    bindHost: options.gossipHost,
    port: options.gossipPort,
    advertiseHost: options.advertiseHost,
    join: options.join,
    keyring: options.keyring,
    config: { label: options.clusterLabel ?? '' },
    meta: { role: 'control-plane', configVersion: 0, configHash: '' },
    log,
  });
  const collector = new SignalCollector({ memberlist: member.memberlist });
  // The AutoscalingSignal policies of the snapshot in force, whoever built it (this replica, a peer, or the disk).
  let autoscalingPolicies: readonly AutoscalingSignal[] = [];
  const sync = new SnapshotSync({
    memberlist: member.memberlist,
    publicKeys,
    stateDir: options.stateDir,
    loadOptions: { requireEndpoints: false },
    apply: (_snapshot, policy) => {
      autoscalingPolicies = policy.autoscalingSignals.map((s) => s.resource);
      return Promise.resolve({ ok: true });
    },
    onStateChange: (state) => {
      builder.noteKnownVersion(state.version);
      member.setMeta({ configVersion: state.version, configHash: state.hash, rejected: state.rejected });
    },
    log,
  });
  // Loaded only when asked for: the Kubernetes client is large and a local control plane never needs it.
  const kube = options.kubeConfig
    ? new (await import('./kubernetes/kube-policy-source.ts')).KubePolicySource({ kubeConfig: options.kubeConfig, onChange: () => builder.changed(), log })
    : undefined;
  const builder: SnapshotBuilder = new SnapshotBuilder({
    folder: options.configDir,
    ...(kube ? { extraFiles: () => kube.files() } : {}),
    privateKey: options.signingKey,
    loadOptions: { requireEndpoints: false },
    ...(options.quietMs !== undefined ? { quietMs: options.quietMs } : {}),
    ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
    onBuild: (result) => void onBuild(result),
    onError: (error) => log.warn('policy folder watch problem', { error: error.message }),
  });
  let lastBuildError: string | undefined;
  const onBuild = async (result: BuildResult): Promise<void> => {
    if (!result.ok) {
      lastBuildError = result.errors.map((e) => `${e.file}:${e.line}:${e.column}: ${e.path}: ${e.message}`).join('\n');
      for (const line of lastBuildError.split('\n')) log.error(`policy rejected: ${line}`);
      log.warn('the last good snapshot keeps serving', { version: sync.state.version });
      return;
    }
    lastBuildError = undefined;
    if (!result.changed) return;
    const running = sync.state;
    if (running.version > 0 && result.snapshot.hash.startsWith(running.hash)) return;
    if (await sync.publish(result.bytes)) log.info('published snapshot', { version: result.snapshot.version, hash: result.snapshot.hash.slice(0, 12), files: result.snapshot.files.length });
  };

  await sync.restore();
  builder.noteKnownVersion(sync.state.version);
  await Promise.race([member.joined, delay(3_000)]);
  sync.start();
  await sync.catchUp(3_000);
  for (const version of advertisedVersions(member)) builder.noteKnownVersion(version);
  await kube?.start();
  await builder.start();

  let server: Server | undefined;
  let secure: SecureServer | undefined;
  try {
    const autoscaling = createAutoscalingRoutes({ collector, policies: () => autoscalingPolicies });
    const dashboard = createDashboardRoutes({ name: options.name, member, collector, lastBuildError: () => lastBuildError });
    server = createApiServer({ member, sync, lastBuildError: () => lastBuildError, name: options.name, extraRoutes: (req, res) => autoscaling(req, res) || dashboard(req, res), collector, autoscalingPolicies: () => autoscalingPolicies });
    const apiPort = await listenApi(server, options.apiPort, options.apiHost);
    secure = options.tls
      ? await startSecureServer({
          tls: options.tls,
          host: options.secureHost ?? options.apiHost,
          port: options.securePort ?? DEFAULT_WEBHOOK_PORT,
          injector: options.injector ?? resolveInjectorConfig(),
          routes: autoscaling,
          log,
        })
      : undefined;
    member.setMeta({ api: `${options.advertiseHost ?? options.apiHost}:${apiPort}` });
    log.info('ready', { gossip: member.address, api: `${options.apiHost}:${apiPort}`, ...(secure ? { secure: `${options.secureHost ?? options.apiHost}:${secure.port}` } : {}), config: options.configDir, version: sync.state.version });
    return {
      member,
      sync,
      apiPort,
      securePort: secure?.port,
      gossipAddress: member.address,
      async close() {
        await kube?.close();
        await builder.close();
        sync.close();
        collector.close();
        await member.close();
        await secure?.close();
        await new Promise<void>((resolve) => {
          server?.close(() => resolve());
          server?.closeAllConnections();
        });
      },
    };
  } catch (error) {
    await kube?.close();
    await secure?.close();
    server?.close();
    await builder.close();
    sync.close();
    collector.close();
    await member.close();
    throw error;
  }
}

function advertisedVersions(member: MeshMember): number[] {
  return member.memberlist.allMembers().map((m) => decodeMemberMeta(m.meta)?.configVersion ?? 0);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
