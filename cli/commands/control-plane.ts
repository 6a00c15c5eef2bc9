import type { KubeConfig } from '@kubernetes/client-node';
import { hostname } from 'node:os';
import type { Command } from '../command.ts';
import { GOSSIP_FLAGS, parseJoin, readKeyring, readPrivateKey } from '../mesh-flags.ts';
import { describeFlags, LOG_FLAGS, parseFlags, parseLogFlags, untilSignal, parsePort, type FlagSpec } from '../options.ts';
import { startControlPlane } from '../../control-plane/control-plane.ts';
import { resolveInjectorConfig } from '../../control-plane/injection/config.ts';

/** The in-cluster service account when running in a pod, else the user's kubeconfig; loaded only when asked for. */
async function loadKubeConfig(): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  config.loadFromDefault();
  if (!config.getCurrentCluster()) throw new Error('--kubernetes: no cluster found (neither an in-cluster service account nor a kubeconfig)');
  return config;
}

function tlsFiles(cert: string | boolean | undefined, key: string | boolean | undefined): { certFile: string; keyFile: string } | undefined {
  if (cert === undefined && key === undefined) return undefined;
  if (typeof cert !== 'string' || typeof key !== 'string') throw new Error('--tls-cert and --tls-key go together');
  return { certFile: cert, keyFile: key };
}

const FLAGS: Record<string, FlagSpec> = {
  config: { type: 'string', env: 'OUTRIGGER_CONFIG', description: 'policy folder turned into snapshots (watched)', placeholder: 'DIR' },
  'signing-key': { type: 'string', env: 'OUTRIGGER_SIGNING_KEY', description: 'Ed25519 private key that signs snapshots (outrigger keygen)', placeholder: 'FILE' },
  name: { type: 'string', env: 'OUTRIGGER_NAME', description: 'member name, unique in the mesh (default: control-plane-HOSTNAME)', placeholder: 'NAME' },
  ...GOSSIP_FLAGS,
  'api-host': { type: 'string', env: 'OUTRIGGER_API_HOST', default: '127.0.0.1', description: 'address of the HTTP API (/members, /snapshot, /metrics)', placeholder: 'ADDR' },
  'api-port': { type: 'string', env: 'OUTRIGGER_API_PORT', default: '15080', description: 'HTTP API port', placeholder: 'PORT' },
  kubernetes: { type: 'boolean', env: 'OUTRIGGER_KUBERNETES', description: 'also read HTTPRoutes, TrafficPolicies, AutoscalingSignals and EndpointSlices from the cluster (in-cluster service account, else ~/.kube/config)' },
  'tls-cert': { type: 'string', env: 'OUTRIGGER_TLS_CERT', description: 'PEM certificate of the HTTPS port (injection webhook, external metrics API); the port is off without it', placeholder: 'FILE' },
  'tls-key': { type: 'string', env: 'OUTRIGGER_TLS_KEY', description: 'PEM private key of that certificate', placeholder: 'FILE' },
  'secure-port': { type: 'string', env: 'OUTRIGGER_SECURE_PORT', default: '15017', description: 'HTTPS port', placeholder: 'PORT' },
  'injector-image': { type: 'string', env: 'OUTRIGGER_INJECTOR_IMAGE', description: 'image injected as the sidecar (default ghcr.io/outrigger-mesh/outrigger:0.1.0)', placeholder: 'IMAGE' },
  'sidecar-mode': { type: 'string', env: 'OUTRIGGER_SIDECAR_MODE', default: 'native', description: 'native (init container with restartPolicy Always, Kubernetes ≥ 1.29) or container', placeholder: 'MODE' },
  capture: { type: 'string', env: 'OUTRIGGER_CAPTURE', default: 'iptables', description: 'default traffic capture of injected pods: iptables or explicit (HTTP_PROXY)', placeholder: 'MODE' },
  ...LOG_FLAGS,
};

export const controlPlaneCommand: Command = {
  name: 'control-plane',
  usage: `outrigger control-plane --config DIR --signing-key FILE [--join HOST:PORT,…] [flags]

Runs one control-plane replica. It joins the gossip mesh, watches the policy
folder, validates every change, and publishes it as a versioned snapshot signed
with --signing-key; sidecars fetch it from any member that has it. Run several
replicas with the same key and folder: there is no leader, and traffic keeps
flowing with none running. The HTTP API serves /members (what "outrigger
status" shows), /snapshot, /metrics, /healthz and /readyz.

Flags:
${describeFlags(FLAGS)}`,
  async run(args, io) {
    let flags;
    try {
      flags = parseFlags(args, FLAGS);
    } catch (error) {
      io.err(`outrigger control-plane: ${(error as Error).message}\nrun "outrigger control-plane --help" for the flags`);
      return 2;
    }
    if (flags.help) {
      io.out(this.usage);
      return 0;
    }
    try {
      if (typeof flags.config !== 'string') throw new Error('--config is required (or OUTRIGGER_CONFIG)');
      if (typeof flags['signing-key'] !== 'string') throw new Error('--signing-key is required (or OUTRIGGER_SIGNING_KEY); make one with "outrigger keygen"');
      const { logLevel, logFormat } = parseLogFlags(flags);
      const controlPlane = await startControlPlane({
        name: typeof flags.name === 'string' ? flags.name : `control-plane-${hostname()}`,
        configDir: flags.config,
        signingKey: readPrivateKey(flags['signing-key'], 'signing-key'),
        gossipHost: String(flags['gossip-host']),
        gossipPort: parsePort(flags['gossip-port'], 'gossip-port'),
        advertiseHost: typeof flags['advertise-host'] === 'string' ? flags['advertise-host'] : undefined,
        join: parseJoin(flags.join),
        keyring: readKeyring(flags['gossip-key']),
        clusterLabel: String(flags['cluster-label']),
        stateDir: typeof flags['state-dir'] === 'string' ? flags['state-dir'] : undefined,
        apiHost: String(flags['api-host']),
        apiPort: parsePort(flags['api-port'], 'api-port'),
        tls: tlsFiles(flags['tls-cert'], flags['tls-key']),
        kubeConfig: flags.kubernetes === true ? await loadKubeConfig() : undefined,
        securePort: parsePort(flags['secure-port'], 'secure-port'),
        injector: resolveInjectorConfig({
          image: typeof flags['injector-image'] === 'string' ? flags['injector-image'] : undefined,
          sidecarMode: String(flags['sidecar-mode']) as 'native',
          captureMode: String(flags.capture) as 'iptables',
        }),
        logLevel,
        logFormat,
      });
      await untilSignal(() => controlPlane.close());
      return 0;
    } catch (error) {
      io.err(`outrigger control-plane: ${(error as Error).message}`);
      return 1;
    }
  },
};
