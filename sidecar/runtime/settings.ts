import type { MeshSpec } from '../../policy/schema/mesh.ts';
import type { TrafficPolicy } from '../../policy/schema/traffic-policy.ts';
import { DEFAULT_LOAD_BALANCER } from '../balancers/balancer.ts';
import type { ServiceSettings } from './service.ts';

/** Istio's connect timeout. */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Envoy's stream idle timeout: a response that sends nothing for this long is abandoned. */
const DEFAULT_STREAM_IDLE_MS = 300_000;

/** Effective settings for a Service: its TrafficPolicy, else the Mesh defaults, else built-in defaults. */
export function serviceSettings(mesh: MeshSpec, policy: TrafficPolicy | undefined): ServiceSettings {
  const spec = policy?.spec;
  const defaults = mesh.defaults;
  const timeout = spec?.timeout;
  return {
    loadBalancer: spec?.loadBalancer ?? defaults.loadBalancer ?? DEFAULT_LOAD_BALANCER,
    connectTimeoutMs: timeout?.tcp?.connectTimeout ?? defaults.timeout?.tcp?.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS,
    idleTimeoutMs: timeout?.http?.connectionIdleTimeout ?? defaults.timeout?.http?.connectionIdleTimeout ?? mesh.upstream.idleTimeout,
    connectionsPerEndpoint: mesh.upstream.maxConnectionsPerEndpoint,
    requestTimeoutMs: timeout?.http?.requestTimeout ?? defaults.timeout?.http?.requestTimeout ?? 0,
    headersTimeoutMs: DEFAULT_STREAM_IDLE_MS,
    bodyTimeoutMs: DEFAULT_STREAM_IDLE_MS,
    policy: spec,
  };
}
