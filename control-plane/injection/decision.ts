/**
 * Whether a pod gets a sidecar, and why: opt-out first (it always wins), then never twice, never in system
 * namespaces or on the host network, then opt-in by pod or namespace. Every outcome carries a code and a sentence.
 */
import { ANNOTATION, INJECT_LABEL } from './annotations.ts';
import { PROXY, type InjectorConfig } from './config.ts';
import type { Labels, Pod } from './k8s-types.ts';

export type DecisionCode =
  | 'injected'
  | 'opted-out'
  | 'already-injected'
  | 'system-namespace'
  | 'host-network'
  | 'not-opted-in'
  | 'invalid-annotation'
  | 'no-app-port'
  | 'no-service-name'
  | 'conflict'
  | 'not-a-pod'
  | 'error';

/** A value worked out from the pod, or the reason it cannot be, as the decision it leads to. */
export type Checked<T> = { ok: true; value: T; source: string; notes: string[] } | { ok: false; code: DecisionCode; reason: string };

export interface InjectionDecision {
  inject: boolean;
  code: DecisionCode;
  reason: string;
}

/** Where the pod is going. */
export interface InjectionTarget {
  namespace?: string | undefined;
  /** The namespace's labels; `undefined` when they cannot be known (`outrigger inject` on files): inject unless opted out. */
  namespaceLabels?: Labels | undefined;
  /** The owning workload's name, the last fallback for the Service name (`outrigger inject` knows it from the file). */
  workloadName?: string | undefined;
}

const skip = (code: DecisionCode, reason: string): InjectionDecision => ({ inject: false, code, reason });

export function decideInjection(pod: Pod, target: InjectionTarget, config: InjectorConfig): InjectionDecision {
  const annotations = pod.metadata?.annotations ?? {};
  const labels = pod.metadata?.labels ?? {};
  const annotationValue = annotations[ANNOTATION.inject];
  const labelValue = labels[INJECT_LABEL];
  for (const [where, value] of [['annotation', annotationValue], ['label', labelValue]] as const) {
    if (value !== undefined && value !== 'enabled' && value !== 'disabled') {
      return skip('invalid-annotation', `pod ${where} ${ANNOTATION.inject}="${value}" must be "enabled" or "disabled"`);
    }
  }
  if (annotationValue === 'disabled') return skip('opted-out', `pod annotation ${ANNOTATION.inject}=disabled`);
  if (labelValue === 'disabled') return skip('opted-out', `pod label ${INJECT_LABEL}=disabled`);

  const injected = alreadyInjected(pod);
  if (injected) return skip('already-injected', injected);

  const namespace = target.namespace ?? pod.metadata?.namespace;
  if (namespace !== undefined && config.systemNamespaces.includes(namespace)) {
    return skip('system-namespace', `namespace ${namespace} is a system namespace and is never injected`);
  }
  if (pod.spec.hostNetwork === true) return skip('host-network', 'pod uses the host network (hostNetwork: true): capturing its traffic would capture the node\'s');

  if (annotationValue === 'enabled') return { inject: true, code: 'injected', reason: `pod annotation ${ANNOTATION.inject}=enabled` };
  if (labelValue === 'enabled') return { inject: true, code: 'injected', reason: `pod label ${INJECT_LABEL}=enabled` };
  if (target.namespaceLabels === undefined) return { inject: true, code: 'injected', reason: 'namespace labels unknown (offline): injected unless the pod opts out' };
  const nsValue = target.namespaceLabels[INJECT_LABEL];
  const nsName = namespace ?? '(unknown)';
  if (nsValue === 'enabled') return { inject: true, code: 'injected', reason: `namespace ${nsName} has label ${INJECT_LABEL}=enabled` };
  if (nsValue === 'disabled') return skip('not-opted-in', `namespace ${nsName} has label ${INJECT_LABEL}=disabled and the pod does not opt in`);
  return skip('not-opted-in', `neither namespace ${nsName} (label ${INJECT_LABEL}=enabled) nor the pod (annotation ${ANNOTATION.inject}: "enabled") opts in`);
}

/** Why the pod already carries a sidecar, or undefined when it does not. */
export function alreadyInjected(pod: Pod): string | undefined {
  if (pod.metadata?.annotations?.[ANNOTATION.status] !== undefined) return `pod already has annotation ${ANNOTATION.status}`;
  for (const [list, containers] of [['initContainers', pod.spec.initContainers], ['containers', pod.spec.containers]] as const) {
    for (const container of containers ?? []) {
      if (container.name === PROXY.containerName || container.name === PROXY.initContainerName) return `pod already has container ${container.name} in ${list}`;
    }
  }
  return undefined;
}
