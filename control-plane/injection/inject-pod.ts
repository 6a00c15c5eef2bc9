/**
 * The injection itself, one pure function used by the admission webhook and by `outrigger inject` alike: decide, then
 * compute the mutated pod and the RFC 6902 patch that turns the original into it.
 */
import { ANNOTATION } from './annotations.ts';
import { addExplicitProxyEnv, captureInitContainer, captureSettings, type CaptureSettings } from './capture.ts';
import { PROXY, type CaptureMode, type InjectorConfig, type SidecarMode } from './config.ts';
import { decideInjection, type DecisionCode, type InjectionDecision, type InjectionTarget } from './decision.ts';
import { PatchBuilder, type JsonPatchOperation } from './json-patch.ts';
import type { Pod } from './k8s-types.ts';
import { drainSeconds, proxyContainer, proxyResources, proxyVolumes } from './proxy-container.ts';
import { appPort, serviceName } from './workload-identity.ts';

/** What was injected, stored as JSON in the pod's `outrigger.dev/status` annotation (and how a second pass knows). */
export interface InjectionStatus {
  version: 1;
  image: string;
  sidecarMode: SidecarMode;
  capture: CaptureMode;
  initContainers: string[];
  containers: string[];
  volumes: string[];
  /** Variables added to app containers (explicit capture). */
  env: string[];
}

export interface InjectionResult {
  injected: boolean;
  decision: InjectionDecision;
  /** Things the user should know about an injection that happened (appended NO_PROXY, clamped drain time, …). */
  notes: string[];
  /** The mutated pod; a plain copy of the original when nothing was injected. */
  pod: Pod;
  /** RFC 6902 operations from the original to `pod`; empty when nothing was injected. */
  patch: JsonPatchOperation[];
  status?: InjectionStatus;
}

export function injectPod(pod: Pod, target: InjectionTarget, config: InjectorConfig): InjectionResult {
  const unchanged = (decision: InjectionDecision): InjectionResult => ({ injected: false, decision, notes: [], pod: structuredClone(pod), patch: [] });
  const refuse = (code: DecisionCode, reason: string): InjectionResult => unchanged({ inject: false, code, reason });

  const decision = decideInjection(pod, target, config);
  if (!decision.inject) return unchanged(decision);

  const service = serviceName(pod, target.workloadName);
  if (!service.ok) return refuse(service.code, service.reason);
  const port = appPort(pod);
  if (!port.ok) return refuse(port.code, port.reason);
  const capture = captureSettings(pod, config);
  if (!capture.ok) return refuse(capture.code, capture.reason);
  const resources = proxyResources(pod);
  if (!resources.ok) return refuse(resources.code, resources.reason);
  const drain = drainSeconds(pod, config);
  if (!drain.ok) return refuse(drain.code, drain.reason);
  const volumes = proxyVolumes(config);
  const taken = new Set((pod.spec.volumes ?? []).map((volume) => volume.name));
  const clash = volumes.find((volume) => taken.has(volume.name));
  if (clash) return refuse('conflict', `the pod already has a volume named ${clash.name}`);

  const mode = config.sidecarMode;
  const settings: CaptureSettings = capture.value;
  const notes = [...capture.notes, ...resources.notes, ...drain.notes, ...modeNotes(pod, mode, settings)];
  const zone = pod.metadata?.annotations?.[ANNOTATION.zone]?.trim();
  const proxy = proxyContainer(config, {
    mode,
    service: service.value,
    appPort: port.value,
    zone: zone === undefined || zone === '' ? undefined : zone,
    drainSeconds: drain.value,
    resources: resources.value,
  });

  const builder = new PatchBuilder<Pod>(pod);
  const status: InjectionStatus = { version: 1, image: config.image, sidecarMode: mode, capture: settings.mode, initContainers: [], containers: [], volumes: [], env: [] };
  // App containers first, while their indices are still the original ones.
  if (settings.mode === 'explicit') {
    notes.push(...addExplicitProxyEnv(builder));
    status.env.push('HTTP_PROXY', 'NO_PROXY');
  }
  if (settings.mode === 'iptables') {
    builder.insert(['spec', 'initContainers'], 0, captureInitContainer(config, settings));
    status.initContainers.push(PROXY.initContainerName);
  }
  if (mode === 'native') {
    // After the iptables init container, before every other: the app's own init containers already go through it.
    builder.insert(['spec', 'initContainers'], status.initContainers.length, proxy);
    status.initContainers.push(PROXY.containerName);
  } else {
    builder.insert(['spec', 'containers'], 0, proxy);
    status.containers.push(PROXY.containerName);
  }
  for (const volume of volumes) {
    builder.insert(['spec', 'volumes'], '-', volume);
    status.volumes.push(volume.name);
  }
  builder.set(['metadata', 'annotations', ANNOTATION.status], JSON.stringify(status));

  const how = `${mode === 'native' ? 'native sidecar' : 'sidecar container'}, ${settings.mode} capture (${capture.source}), Service ${service.value} (${service.source}), app port ${port.value} (${port.source})`;
  return { injected: true, decision: { ...decision, reason: `${decision.reason}; ${how}` }, notes, pod: builder.doc, patch: builder.ops, status };
}

/** Known traps of the chosen mode for this pod, said up front. */
function modeNotes(pod: Pod, mode: SidecarMode, capture: CaptureSettings): string[] {
  if (mode !== 'container') return [];
  const notes: string[] = [];
  if ((pod.spec.initContainers ?? []).length > 0 && capture.mode === 'iptables') {
    notes.push('container mode: the pod\'s init containers run before the proxy, but their outbound TCP is already redirected to it; exclude their ports or use native mode');
  }
  const restartPolicy = pod.spec.restartPolicy;
  if (restartPolicy === 'Never' || restartPolicy === 'OnFailure') {
    notes.push(`container mode: with restartPolicy ${restartPolicy} the proxy container keeps the pod running after the app exits; use native mode for Jobs`);
  }
  return notes;
}
