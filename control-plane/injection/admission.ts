/**
 * `admission.k8s.io/v1` AdmissionReview in, AdmissionReview out. The answer always allows the pod: an injector that
 * fails must never stop pods from being created, so every problem becomes a warning (shown by kubectl) and a log line.
 */
import type { InjectorConfig } from './config.ts';
import type { DecisionCode } from './decision.ts';
import { injectPod } from './inject-pod.ts';
import { isPodLike, isRecord, type Labels } from './k8s-types.ts';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface AdmissionResponse {
  uid: string;
  allowed: true;
  patchType?: 'JSONPatch';
  /** Base64 of the JSON Patch array. */
  patch?: string;
  warnings?: string[];
  /** Set only when the review itself could not be read; the pod is still allowed. */
  status?: { code: number; message: string };
}

export interface AdmissionReviewReply {
  apiVersion: string;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/** The namespace's labels, from the control plane's cache; `undefined` when it does not know the namespace. */
export type NamespaceLabelLookup = ((namespace: string) => Labels | undefined) | ReadonlyMap<string, Labels>;

/** What happened to one review, for the log line. */
export interface AdmissionOutcome {
  uid: string;
  namespace: string | undefined;
  pod: string;
  injected: boolean;
  code: DecisionCode | 'bad-review' | 'not-a-pod-create';
  reason: string;
  notes: string[];
  dryRun: boolean;
}

/** Kubernetes advises warnings of at most 120 characters and truncates beyond 256; one line each. */
const MAX_WARNING = 256;
const warning = (text: string): string => {
  const line = `outrigger: ${text}`.replace(/[\r\n\t]+/g, ' ');
  return line.length > MAX_WARNING ? `${line.slice(0, MAX_WARNING - 1)}…` : line;
};

/** Outcomes worth telling whoever creates the pod: they asked for (or did not stop) an injection that did not happen. */
const USER_ERRORS: ReadonlySet<string> = new Set(['invalid-annotation', 'no-app-port', 'no-service-name', 'conflict', 'error']);

export function handleAdmissionReview(body: unknown, config: InjectorConfig, namespaceLabels: NamespaceLabelLookup): AdmissionReviewReply {
  return reviewAdmission(body, config, namespaceLabels).reply;
}

/** `handleAdmissionReview` with what happened, for logs. Never throws. */
export function reviewAdmission(body: unknown, config: InjectorConfig, namespaceLabels: NamespaceLabelLookup): { reply: AdmissionReviewReply; outcome: AdmissionOutcome } {
  const apiVersion = isRecord(body) && typeof body.apiVersion === 'string' ? body.apiVersion : ADMISSION_API_VERSION;
  const request = isRecord(body) && isRecord(body.request) ? body.request : undefined;
  const uid = request !== undefined && typeof request.uid === 'string' ? request.uid : '';
  const dryRun = request?.dryRun === true;
  const namespace = typeof request?.namespace === 'string' && request.namespace !== '' ? request.namespace : undefined;
  const object = request?.object;
  const pod = describePod(object);
  const outcome = (code: AdmissionOutcome['code'], reason: string, injected = false, notes: string[] = []): AdmissionOutcome => ({ uid, namespace, pod, injected, code, reason, notes, dryRun });
  const allow = (extra: Omit<AdmissionResponse, 'uid' | 'allowed'> = {}): AdmissionReviewReply => ({ apiVersion, kind: 'AdmissionReview', response: { uid, allowed: true, ...extra } });
  const badReview = (message: string): { reply: AdmissionReviewReply; outcome: AdmissionOutcome } => ({
    reply: allow({ status: { code: 400, message }, warnings: [warning(`sidecar not injected: ${message}`)] }),
    outcome: outcome('bad-review', message),
  });

  if (!isRecord(body)) return badReview('the body is not an AdmissionReview object');
  if (apiVersion !== ADMISSION_API_VERSION) {
    return badReview(`unsupported AdmissionReview apiVersion "${apiVersion}": this injector speaks ${ADMISSION_API_VERSION}; set admissionReviewVersions: ["v1"] in the MutatingWebhookConfiguration`);
  }
  if (body.kind !== 'AdmissionReview') return badReview(`kind must be AdmissionReview, got ${JSON.stringify(body.kind) ?? 'nothing'}`);
  if (request === undefined || uid === '') return badReview('the AdmissionReview has no request.uid');

  const kind = isRecord(request.kind) ? request.kind : {};
  const subResource = typeof request.subResource === 'string' ? request.subResource : '';
  if (kind.kind !== 'Pod' || (kind.group ?? '') !== '' || subResource !== '' || request.operation !== 'CREATE') {
    const what = `${String(request.operation ?? '?')} of ${String(kind.kind ?? '?')}${subResource ? `/${subResource}` : ''}`;
    return { reply: allow(), outcome: outcome('not-a-pod-create', `${what}: only pod creation is mutated`) };
  }
  if (!isPodLike(object)) {
    const message = 'request.object is not a Pod with spec.containers';
    return { reply: allow({ warnings: [warning(`sidecar not injected: ${message}`)] }), outcome: outcome('not-a-pod', message) };
  }

  try {
    let labels: Labels | undefined;
    const notes: string[] = [];
    const ns = namespace ?? object.metadata?.namespace;
    if (ns !== undefined) labels = typeof namespaceLabels === 'function' ? namespaceLabels(ns) : namespaceLabels.get(ns);
    if (labels === undefined) {
      labels = {};
      notes.push(`the labels of namespace ${ns ?? '(none)'} are not known to the injector: only a pod-level opt-in injects`);
    }
    const result = injectPod(object, { namespace: ns, namespaceLabels: labels }, config);
    const allNotes = [...notes, ...result.notes];
    if (!result.injected) {
      const warnings = USER_ERRORS.has(result.decision.code) ? [warning(`sidecar not injected: ${result.decision.reason}`)] : [];
      return { reply: allow(warnings.length > 0 ? { warnings } : {}), outcome: outcome(result.decision.code, result.decision.reason, false, allNotes) };
    }
    const patch = Buffer.from(JSON.stringify(result.patch)).toString('base64');
    const warnings = result.notes.map(warning);
    return {
      reply: allow({ patchType: 'JSONPatch', patch, ...(warnings.length > 0 ? { warnings } : {}) }),
      outcome: outcome('injected', result.decision.reason, true, allNotes),
    };
  } catch (error) {
    const message = `injection failed, pod admitted without a sidecar: ${error instanceof Error ? error.message : String(error)}`;
    return { reply: allow({ warnings: [warning(message)] }), outcome: outcome('error', message) };
  }
}

function describePod(object: unknown): string {
  if (!isRecord(object) || !isRecord(object.metadata)) return '(unnamed)';
  const { name, generateName } = object.metadata;
  if (typeof name === 'string' && name !== '') return name;
  if (typeof generateName === 'string' && generateName !== '') return `${generateName}*`;
  return '(unnamed)';
}
