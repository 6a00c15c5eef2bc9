/**
 * Sidecar injection: one pure pod mutation (`injectPod`) behind the mutating admission webhook
 * (`handleAdmissionReview`, `createWebhookServer`, `startWebhookServer`) and `outrigger inject` (`injectYamlStream`).
 * docs/injection.md is the user's guide.
 */
export { ANNOTATION, INJECT_LABEL } from './annotations.ts';
export { CONTROL_PLANE_NAMESPACE, DEFAULT_INJECTOR_CONFIG, PROXY, resolveInjectorConfig } from './config.ts';
export type { CaptureMode, InjectorConfig, InjectorConfigOverrides, SidecarMode } from './config.ts';
export { alreadyInjected, decideInjection } from './decision.ts';
export type { DecisionCode, InjectionDecision, InjectionTarget } from './decision.ts';
export { injectPod } from './inject-pod.ts';
export type { InjectionResult, InjectionStatus } from './inject-pod.ts';
export { iptablesScript } from './capture.ts';
export type { JsonPatchOperation } from './json-patch.ts';
export type { Labels, Pod } from './k8s-types.ts';
export { ADMISSION_API_VERSION, handleAdmissionReview, reviewAdmission } from './admission.ts';
export type { AdmissionOutcome, AdmissionResponse, AdmissionReviewReply, NamespaceLabelLookup } from './admission.ts';
export { createWebhookServer, DEFAULT_WEBHOOK_PORT, MAX_REVIEW_BYTES, startWebhookServer } from './webhook-server.ts';
export type { RunningWebhook, StartWebhookOptions, WebhookServerOptions } from './webhook-server.ts';
export { injectYamlStream, POD_TEMPLATE_PATHS } from './yaml-stream.ts';
export type { InjectStreamResult, WorkloadReport } from './yaml-stream.ts';
