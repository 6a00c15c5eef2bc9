/**
 * The `outrigger-proxy` container: `outrigger sidecar` configured entirely by `OUTRIGGER_*` environment variables,
 * with its keys from Secrets, its state on an emptyDir, probes on the admin port, and the tightest security context
 * the proxy runs under.
 */
import { ANNOTATION, parseQuantity } from './annotations.ts';
import { PROXY, type InjectorConfig, type SidecarMode } from './config.ts';
import type { Checked } from './decision.ts';
import type { Container, EnvVar, HttpProbe, Pod, ResourceRequirements, Volume } from './k8s-types.ts';


export const DEFAULT_PROXY_RESOURCES = { cpu: '50m', memory: '64Mi', memoryLimit: '256Mi' } as const;
/** Kubernetes' default `terminationGracePeriodSeconds`. */
export const DEFAULT_GRACE_SECONDS = 30;

/** Requests and limits from `outrigger.dev/proxy-{cpu,memory,cpu-limit,memory-limit}` over safe defaults; never request > limit. */
export function proxyResources(pod: Pod): Checked<ResourceRequirements> {
  const annotations = pod.metadata?.annotations ?? {};
  const read = (key: string, fallback: string | undefined): { text: string | undefined; value: number | undefined; annotated: boolean } | string => {
    const text = annotations[key];
    if (text === undefined) return { text: fallback, value: fallback === undefined ? undefined : parseQuantity(fallback), annotated: false };
    const value = parseQuantity(text);
    return value === undefined ? `annotation ${key}="${text}" is not a Kubernetes quantity (e.g. 100m, 128Mi)` : { text: text.trim(), value, annotated: true };
  };
  const cpu = read(ANNOTATION.proxyCpu, DEFAULT_PROXY_RESOURCES.cpu);
  const memory = read(ANNOTATION.proxyMemory, DEFAULT_PROXY_RESOURCES.memory);
  const cpuLimit = read(ANNOTATION.proxyCpuLimit, undefined);
  const memoryLimit = read(ANNOTATION.proxyMemoryLimit, DEFAULT_PROXY_RESOURCES.memoryLimit);
  for (const item of [cpu, memory, cpuLimit, memoryLimit]) if (typeof item === 'string') return { ok: false, code: 'invalid-annotation', reason: item };
  const [c, m, cl, ml] = [cpu, memory, cpuLimit, memoryLimit] as Exclude<typeof cpu, string>[];
  const notes: string[] = [];
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  for (const [resource, request, limit] of [['cpu', c, cl], ['memory', m, ml]] as const) {
    if (request?.text !== undefined) requests[resource] = request.text;
    if (limit?.text === undefined) continue;
    if (request?.value !== undefined && limit.value !== undefined && request.value > limit.value) {
      if (limit.annotated) return { ok: false, code: 'conflict', reason: `proxy ${resource} request ${request.text ?? ''} is above its limit ${limit.text}` };
      limits[resource] = request.text ?? limit.text;
      notes.push(`proxy ${resource} limit raised from the default ${limit.text} to the requested ${request.text ?? ''}`);
    } else {
      limits[resource] = limit.text;
    }
  }
  return { ok: true, value: { requests, limits }, source: 'annotations over defaults', notes };
}

/** `OUTRIGGER_DRAIN_SECONDS` from `outrigger.dev/drain-seconds` or the config, never beyond the pod's grace period. */
export function drainSeconds(pod: Pod, config: InjectorConfig): Checked<number> {
  const text = pod.metadata?.annotations?.[ANNOTATION.drainSeconds];
  let drain = config.drainSeconds;
  if (text !== undefined) {
    if (!/^[0-9]{1,4}$/.test(text.trim())) return { ok: false, code: 'invalid-annotation', reason: `annotation ${ANNOTATION.drainSeconds}="${text}" is not a whole number of seconds` };
    drain = Number(text.trim());
  }
  const grace = pod.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
  if (drain > grace) {
    return { ok: true, value: grace, source: 'terminationGracePeriodSeconds', notes: [`drain time ${drain}s cut to the pod's terminationGracePeriodSeconds (${grace}s)`] };
  }
  return { ok: true, value: drain, source: text !== undefined ? `annotation ${ANNOTATION.drainSeconds}` : 'injector default', notes: [] };
}

export interface ProxySettings {
  mode: SidecarMode;
  service: string;
  appPort: number;
  zone: string | undefined;
  drainSeconds: number;
  resources: ResourceRequirements;
}

const fieldRef = (name: string, fieldPath: string): EnvVar => ({ name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });
const probe = (path: string, periodSeconds: number, failureThreshold: number): HttpProbe => ({
  httpGet: { path, port: PROXY.healthPort },
  periodSeconds,
  timeoutSeconds: 2,
  failureThreshold,
});

export function proxyEnv(config: InjectorConfig, settings: ProxySettings): EnvVar[] {
  return [
    { name: 'OUTRIGGER_SERVICE', value: settings.service },
    fieldRef('OUTRIGGER_NAMESPACE', 'metadata.namespace'),
    { name: 'OUTRIGGER_APP', value: `127.0.0.1:${settings.appPort}` },
    { name: 'OUTRIGGER_INBOUND', value: String(PROXY.inboundPort) },
    { name: 'OUTRIGGER_OUTBOUND', value: String(PROXY.outboundPort) },
    { name: 'OUTRIGGER_ADMIN', value: String(PROXY.adminPort) },
    { name: 'OUTRIGGER_HEALTH_PORT', value: String(PROXY.healthPort) },
    { name: 'OUTRIGGER_INBOUND_HOST', value: '0.0.0.0' },
    { name: 'OUTRIGGER_JOIN', value: config.join },
    { name: 'OUTRIGGER_GOSSIP_HOST', value: '0.0.0.0' },
    fieldRef('OUTRIGGER_ADVERTISE_HOST', 'status.podIP'),
    fieldRef('OUTRIGGER_NAME', 'metadata.name'),
    ...(settings.zone !== undefined ? [{ name: 'OUTRIGGER_ZONE', value: settings.zone }] : []),
    { name: 'OUTRIGGER_MESH_KEY', value: PROXY.meshKeyFile },
    { name: 'OUTRIGGER_GOSSIP_KEY', value: PROXY.gossipKeyFile },
    { name: 'OUTRIGGER_STATE_DIR', value: PROXY.stateDir },
    { name: 'OUTRIGGER_DRAIN_SECONDS', value: String(settings.drainSeconds) },
  ];
}

/** Where the image keeps the CLI: the Dockerfile's ENTRYPOINT runs it. */
export const CLI_IN_IMAGE = '/app/dist/outrigger.js';

/**
 * Container mode's hold: the kubelet starts a pod's containers in order and runs each one's postStart hook before it
 * starts the next, so a hook that returns once the proxy is ready holds the app's containers until then, as Istio's
 * `holdApplicationUntilProxyStarts` does. A native sidecar's startup probe does the same job.
 */
export const WAIT_UNTIL_READY: string[] = ['node', CLI_IN_IMAGE, 'wait-ready', '--url', `http://127.0.0.1:${PROXY.adminPort}/ready`, '--timeout', '120'];

export function proxyContainer(config: InjectorConfig, settings: ProxySettings): Container {
  return {
    name: PROXY.containerName,
    image: config.image,
    ...(config.imagePullPolicy ? { imagePullPolicy: config.imagePullPolicy } : {}),
    // Native sidecar: started before the app's containers, stopped after them (Kubernetes ≥ 1.29).
    ...(settings.mode === 'native' ? { restartPolicy: 'Always' } : {}),
    args: ['sidecar'],
    env: proxyEnv(config, settings),
    resources: settings.resources,
    volumeMounts: [
      { name: PROXY.meshKeyVolume, mountPath: PROXY.meshKeyDir, readOnly: true },
      { name: PROXY.gossipKeyVolume, mountPath: PROXY.gossipKeyDir, readOnly: true },
      { name: PROXY.stateVolume, mountPath: PROXY.stateDir },
    ],
    // The startup probe gates the next init container, hence the app, on a ready proxy; it allows 2 minutes.
    startupProbe: probe('/ready', 1, 120),
    ...(settings.mode === 'container' ? { lifecycle: { postStart: { exec: { command: WAIT_UNTIL_READY } } } } : {}),
    readinessProbe: probe('/ready', 5, 3),
    livenessProbe: probe('/live', 10, 3),
    securityContext: {
      runAsUser: PROXY.uid,
      runAsGroup: PROXY.uid,
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

export function proxyVolumes(config: InjectorConfig): Volume[] {
  return [
    { name: PROXY.meshKeyVolume, secret: { secretName: config.meshKeySecret } },
    { name: PROXY.gossipKeyVolume, secret: { secretName: config.gossipKeySecret } },
    { name: PROXY.stateVolume, emptyDir: {} },
  ];
}
