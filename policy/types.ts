import type { AutoscalingSignal, HTTPRoute, Mesh, ServiceEndpoints, TrafficPolicy } from './schema/index.ts';

/** One problem in a config, pointing at the YAML that causes it. Lines and columns are 1-based. */
export interface ConfigError {
  file: string;
  line: number;
  column: number;
  /** Field path such as `spec.rules[0].matches[1].path.value`; "" for errors about a whole file or document. */
  path: string;
  message: string;
}

/** A resource together with where it was read from; `line` is where its document's content starts. */
export interface Sourced<T> {
  resource: T;
  file: string;
  line: number;
}

export interface PolicySet {
  routes: Sourced<HTTPRoute>[];
  trafficPolicies: Sourced<TrafficPolicy>[];
  endpoints: Sourced<ServiceEndpoints>[];
  mesh: Sourced<Mesh> | undefined;
  autoscalingSignals: Sourced<AutoscalingSignal>[];
  /** Every file read, sorted, including files that held only comments. */
  files: string[];
  /** sha256 hex over the sorted files' raw contents: a content version */
  hash: string;
}

export type LoadResult = { ok: true; policy: PolicySet } | { ok: false; errors: ConfigError[] };

export interface LoadOptions {
  /**
   * Every Service used as a backend (backendRefs, RequestMirror, TrafficPolicy fallback) must have a
   * ServiceEndpoints resource in the set. Default true; turn off when endpoints come from discovery instead.
   */
  requireEndpoints?: boolean;
}

export interface PolicyText {
  file: string;
  text: string;
}
