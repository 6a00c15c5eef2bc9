/** The injector's configuration: what the operator decides once for the whole cluster. Pods refine it by annotation. */
import { parsePortList } from './annotations.ts';

export type SidecarMode = 'native' | 'container';
export type CaptureMode = 'iptables' | 'explicit';

export interface InjectorConfig {
  /** Image of the proxy and of the iptables init container. */
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never' | undefined;
  /** `native`: init container with `restartPolicy: Always` (Kubernetes ≥ 1.29); `container`: a regular first container. */
  sidecarMode: SidecarMode;
  /** Default traffic capture; a pod overrides it with `outrigger.dev/capture`. */
  captureMode: CaptureMode;
  /** `OUTRIGGER_JOIN`: the control plane's gossip Service. */
  join: string;
  /** Secret holding `signing-key.pub.pem`, mounted at /etc/outrigger/mesh. */
  meshKeySecret: string;
  /** Secret holding `gossip.key`, mounted at /etc/outrigger/gossip. */
  gossipKeySecret: string;
  /** Namespaces never injected, whatever their labels or pods say. */
  systemNamespaces: readonly string[];
  /** Default `OUTRIGGER_DRAIN_SECONDS`; a pod overrides it with `outrigger.dev/drain-seconds`. */
  drainSeconds: number;
  /** Outbound ports never captured, on top of the proxy's own and the pod's annotation (53: DNS over TCP). */
  excludeOutboundPorts: readonly string[];
}

/** The proxy's fixed layout inside the pod: ports, user, paths. The sidecar's own defaults, stated once. */
export const PROXY = {
  containerName: 'outrigger-proxy',
  initContainerName: 'outrigger-init',
  uid: 1337,
  inboundPort: 15006,
  outboundPort: 15001,
  adminPort: 15000,
  /** Serves only /ready and /live on the pod IP, for the kubelet's probes (the admin API stays on loopback). Istio: 15021. */
  healthPort: 15021,
  gossipPort: 7946,
  meshKeyVolume: 'outrigger-mesh-key',
  gossipKeyVolume: 'outrigger-gossip-key',
  stateVolume: 'outrigger-state',
  meshKeyDir: '/etc/outrigger/mesh',
  meshKeyFile: '/etc/outrigger/mesh/signing-key.pub.pem',
  gossipKeyDir: '/etc/outrigger/gossip',
  gossipKeyFile: '/etc/outrigger/gossip/gossip.key',
  stateDir: '/var/run/outrigger',
} as const;

export const CONTROL_PLANE_NAMESPACE = 'outrigger-system';

export const DEFAULT_INJECTOR_CONFIG: InjectorConfig = {
  image: 'ghcr.io/outrigger-mesh/outrigger:0.1.0',
  imagePullPolicy: undefined,
  sidecarMode: 'native',
  captureMode: 'iptables',
  join: `outrigger-gossip.${CONTROL_PLANE_NAMESPACE}.svc.cluster.local:7946`,
  meshKeySecret: 'outrigger-mesh-key',
  gossipKeySecret: 'outrigger-gossip-key',
  systemNamespaces: ['kube-system', 'kube-public', 'kube-node-lease', CONTROL_PLANE_NAMESPACE],
  drainSeconds: 5,
  excludeOutboundPorts: ['53'],
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * The defaults overlaid with `overrides`, checked. Throws on a bad value: the config is the operator's, read once at
 * start-up, and an injector that starts with a broken config would inject broken pods.
 */
export type InjectorConfigOverrides = { [K in keyof InjectorConfig]?: InjectorConfig[K] | undefined };

export function resolveInjectorConfig(overrides: InjectorConfigOverrides = {}): InjectorConfig {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)) as Partial<InjectorConfig>;
  const config: InjectorConfig = { ...DEFAULT_INJECTOR_CONFIG, ...defined };
  if (config.image.trim() === '' || /\s/.test(config.image)) throw new Error(`injector image must be an image reference without spaces, got "${config.image}"`);
  if (config.sidecarMode !== 'native' && config.sidecarMode !== 'container') throw new Error(`sidecarMode must be native or container, got "${String(config.sidecarMode)}"`);
  if (config.captureMode !== 'iptables' && config.captureMode !== 'explicit') throw new Error(`captureMode must be iptables or explicit, got "${String(config.captureMode)}"`);
  if (config.imagePullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(config.imagePullPolicy)) {
    throw new Error(`imagePullPolicy must be Always, IfNotPresent or Never, got "${String(config.imagePullPolicy)}"`);
  }
  if (!/^[A-Za-z0-9.-]+:[0-9]{1,5}(,[A-Za-z0-9.-]+:[0-9]{1,5})*$/.test(config.join)) throw new Error(`join must be HOST:PORT[,HOST:PORT…], got "${config.join}"`);
  for (const [field, name] of [['meshKeySecret', config.meshKeySecret], ['gossipKeySecret', config.gossipKeySecret]] as const) {
    if (!DNS_SUBDOMAIN.test(name)) throw new Error(`${field} must be a Secret name (lower-case DNS subdomain), got "${name}"`);
  }
  for (const ns of config.systemNamespaces) if (!DNS_LABEL.test(ns)) throw new Error(`systemNamespaces: "${ns}" is not a namespace name`);
  if (!Number.isInteger(config.drainSeconds) || config.drainSeconds < 0 || config.drainSeconds > 3600) {
    throw new Error(`drainSeconds must be a whole number of seconds from 0 to 3600, got ${String(config.drainSeconds)}`);
  }
  try {
    parsePortList(config.excludeOutboundPorts.join(','));
  } catch (error) {
    throw new Error(`excludeOutboundPorts: ${(error as Error).message}`, { cause: error });
  }
  return config;
}
