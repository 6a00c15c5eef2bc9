/** What the sidecar needs to know about the app beside it: its Service name and the port it listens on. */
import { ANNOTATION, parsePort } from './annotations.ts';
import { PROXY } from './config.ts';
import type { Checked } from './decision.ts';
import type { Pod } from './k8s-types.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * `OUTRIGGER_SERVICE`: annotation `outrigger.dev/service`, else label `app.kubernetes.io/name`, else `app`, else the
 * owning workload's name (from `generateName`, the owner reference, or the workload in the file), else the pod's name.
 */
export function serviceName(pod: Pod, workloadName?: string): Checked<string> {
  const annotations = pod.metadata?.annotations ?? {};
  const labels = pod.metadata?.labels ?? {};
  const explicit = annotations[ANNOTATION.service];
  if (explicit !== undefined) {
    return DNS_LABEL.test(explicit)
      ? { ok: true, value: explicit, source: `annotation ${ANNOTATION.service}`, notes: [] }
      : { ok: false, code: 'invalid-annotation', reason: `annotation ${ANNOTATION.service}="${explicit}" is not a Service name (lower-case letters, digits and '-', at most 63)` };
  }
  for (const label of ['app.kubernetes.io/name', 'app']) {
    const value = labels[label];
    if (value !== undefined && value !== '') return { ok: true, value, source: `label ${label}`, notes: [] };
  }
  const owner = ownerName(pod);
  if (owner !== undefined) return { ok: true, value: owner.name, source: owner.source, notes: [] };
  if (workloadName !== undefined && workloadName !== '') return { ok: true, value: workloadName, source: 'workload name', notes: [] };
  const name = pod.metadata?.name;
  if (name !== undefined && name !== '') return { ok: true, value: name, source: 'pod name', notes: [] };
  return { ok: false, code: 'no-service-name', reason: `cannot tell the Service name: set annotation ${ANNOTATION.service} or label app.kubernetes.io/name` };
}

/**
 * The workload that owns the pod, as the API server names its pods: `catalog-7d9f8b6c4d-` (Deployment → ReplicaSet,
 * `pod-template-hash` label) → `catalog`; `nightly-29000000-` (CronJob → Job) → `nightly`; `fluentd-` (DaemonSet,
 * Job) → `fluentd`; a StatefulSet pod `web-0` has no generateName, its owner reference says `web`.
 */
export function ownerName(pod: Pod): { name: string; source: string } | undefined {
  const meta = pod.metadata ?? {};
  const controller = (meta.ownerReferences ?? []).find((ref) => ref.controller === true) ?? meta.ownerReferences?.[0];
  let name: string | undefined;
  let source: string;
  if (meta.generateName !== undefined && meta.generateName.replace(/-$/, '') !== '') {
    name = meta.generateName.replace(/-$/, '');
    source = 'generateName';
  } else if (controller?.name !== undefined && controller.name !== '') {
    name = controller.name;
    source = `owner ${controller.kind ?? 'reference'}`;
  } else {
    return undefined;
  }
  const hash = meta.labels?.['pod-template-hash'];
  if (hash !== undefined && hash !== '' && name.endsWith(`-${hash}`)) {
    name = name.slice(0, -hash.length - 1);
    source += ' minus pod-template-hash';
  } else if (controller?.kind === 'Job' && /^.+-[0-9]{8,}$/.test(name)) {
    name = name.replace(/-[0-9]{8,}$/, '');
    source += ' minus the CronJob schedule suffix';
  }
  return { name, source };
}

const PROXY_PORTS: ReadonlySet<number> = new Set([PROXY.adminPort, PROXY.healthPort, PROXY.outboundPort, PROXY.inboundPort, PROXY.gossipPort]);

/** The port the app listens on: annotation `outrigger.dev/app-port`, else the first TCP containerPort of the first container. */
export function appPort(pod: Pod): Checked<number> {
  const annotated = pod.metadata?.annotations?.[ANNOTATION.appPort];
  let found: Checked<number>;
  if (annotated !== undefined) {
    const port = parsePort(annotated.trim());
    found = port === undefined
      ? { ok: false, code: 'invalid-annotation', reason: `annotation ${ANNOTATION.appPort}="${annotated}" is not a port number (1–65535)` }
      : { ok: true, value: port, source: `annotation ${ANNOTATION.appPort}`, notes: [] };
  } else {
    const first = pod.spec.containers[0];
    const port = (first?.ports ?? []).find((p) => (p.protocol ?? 'TCP') === 'TCP');
    found = port === undefined
      ? { ok: false, code: 'no-app-port', reason: `no app port: container ${first?.name ?? '(none)'} declares no TCP containerPort; set annotation ${ANNOTATION.appPort}` }
      : { ok: true, value: port.containerPort, source: `containerPort of container ${first?.name ?? ''}`, notes: [] };
  }
  if (found.ok && PROXY_PORTS.has(found.value)) {
    return { ok: false, code: 'conflict', reason: `app port ${found.value} (${found.source}) is one of the proxy's ports (15000, 15001, 15006, 15021, 7946)` };
  }
  return found;
}
