import type { ConfigError, PolicySet } from '../../policy/load.ts';
import { meshSpec, type MeshSpec } from '../../policy/schema/mesh.ts';
import type { TrafficPolicy } from '../../policy/schema/traffic-policy.ts';
import { compileRouteTables, RouteCompileError, type CompiledRule, type RouteTable } from '../routing/route-table.ts';
import type { UpstreamPools } from '../upstream/pools.ts';
import type { Handler } from '../pipeline/context.ts';
import type { Logger } from '../log.ts';
import { buildService, sameEndpoints, type EndpointInput, type ServiceRuntime } from './service.ts';
import type { DiscoveredEndpoint } from '../discovery/discovery-source.ts';
import { isServiceKey } from '../discovery/discovery-source.ts';
import { mergeEndpoints } from '../discovery/merge-endpoints.ts';
import { serviceSettings } from './settings.ts';
import { buildRuleHandler, buildDefaultHandler, type MirrorReport } from './rule-handler.ts';
import { deadline } from '../layers/deadline.ts';
import { stack } from '../pipeline/context.ts';

/** One generation of the sidecar's configuration, built once when config loads and swapped atomically. */
export interface RuntimeConfig {
  /** Configs accepted so far; rebuilding the endpoints after a discovery change keeps the number. */
  readonly generation: number;
  /** Content hash of the policy files: the config version. */
  readonly version: string;
  /** Where the policy came from: the config path, or the label of a pushed snapshot (e.g. "snapshot v12"). */
  readonly source: string;
  readonly loadedAt: Date;
  readonly policy: PolicySet;
  readonly mesh: MeshSpec;
  readonly services: ReadonlyMap<string, ServiceRuntime>;
  readonly routeTables: ReadonlyMap<string, RouteTable>;
  readonly ruleHandlers: ReadonlyMap<CompiledRule, Handler>;
  /** Chain for each Service when no route matches (or it has none): straight to its endpoints. */
  readonly defaultHandlers: ReadonlyMap<string, Handler>;
  /** The local app behind the inbound listener. */
  readonly inbound: ServiceRuntime;
  readonly inboundHandler: Handler;
}

export interface CompileOptions {
  generation: number;
  pools: UpstreamPools;
  previous: RuntimeConfig | undefined;
  localService: { name: string; namespace: string };
  appAddress: string;
  onMirror?: MirrorReport;
  log: Logger;
  /** Endpoints from discovery by Service key, merged with the ServiceEndpoints ones (see merge-endpoints.ts). */
  discovered?: ReadonlyMap<string, readonly DiscoveredEndpoint[]> | undefined;
  source?: string | undefined;
}

export type CompileResult = { ok: true; config: RuntimeConfig } | { ok: false; errors: ConfigError[] };

export function compileRuntime(policy: PolicySet, options: CompileOptions): CompileResult {
  const errors: ConfigError[] = [];
  const mesh = policy.mesh?.resource.spec ?? meshSpec.parse({});
  const policies = new Map<string, TrafficPolicy>();
  for (const sourced of policy.trafficPolicies) {
    const tp = sourced.resource;
    for (const ref of tp.spec.targetRefs) policies.set(`${ref.name}.${ref.namespace ?? tp.metadata.namespace}`, tp);
  }
  // The same policy object again means only discovered endpoints changed: what depends on policy alone is kept.
  const kept = options.previous?.policy === policy ? options.previous : undefined;
  let routeTables: ReadonlyMap<string, RouteTable>;
  try {
    routeTables = kept?.routeTables ?? compileRouteTables(policy.routes);
  } catch (error) {
    // The loader already checks what compiling can refuse; this keeps a gap between the two a located error.
    const message = error instanceof RouteCompileError ? error.message : String(error);
    const route = policy.routes.find((r) => message.includes(`${r.resource.metadata.namespace}/${r.resource.metadata.name} `));
    errors.push({ file: route?.file ?? policy.files[0] ?? '', line: route?.line ?? 1, column: 1, path: '', message });
    return { ok: false, errors };
  }

  const endpointsByService = new Map<string, EndpointInput[]>();
  for (const { resource } of policy.endpoints) {
    endpointsByService.set(`${resource.metadata.name}.${resource.metadata.namespace}`, resource.spec.endpoints);
  }
  const serviceKeys = new Set(endpointsByService.keys());
  for (const { resource } of policy.routes) {
    for (const parent of resource.spec.parentRefs) serviceKeys.add(`${parent.name}.${parent.namespace ?? resource.metadata.namespace}`);
  }
  // Without YAML endpoints a referenced Service may still be discovered later; until then it answers 503 UH, not 500.
  for (const key of referencedServices(routeTables, policy)) serviceKeys.add(key);
  const discovered = options.discovered ?? new Map<string, readonly DiscoveredEndpoint[]>();
  for (const key of discovered.keys()) if (isServiceKey(key)) serviceKeys.add(key);

  const services = new Map<string, ServiceRuntime>();
  let skipped = 0;
  for (const key of serviceKeys) {
    const [name = '', namespace = ''] = splitKey(key);
    const inputs = mergeEndpoints(endpointsByService.get(key), discovered.get(key), () => skipped++);
    const previous = options.previous?.services.get(key);
    if (kept && previous && sameEndpoints(previous, inputs)) {
      services.set(key, previous);
      continue;
    }
    const settings = serviceSettings(mesh, policies.get(key));
    services.set(key, buildService(name, namespace, inputs, settings, options.pools, previous, options.log));
  }
  if (skipped > 0) options.log.warn('skipped invalid discovered endpoints', { count: skipped });
  const { name: localName, namespace: localNamespace } = options.localService;
  const localKey = `${localName}.${localNamespace}`;
  const inbound =
    kept?.inbound ??
    buildService(
      localName,
      localNamespace,
      [{ address: options.appAddress, weight: 1 }],
      serviceSettings(mesh, policies.get(localKey)),
      options.pools,
      options.previous?.inbound,
      options.log,
      'inbound',
    );

  const ruleHandlers = new Map<CompiledRule, Handler>();
  for (const [parentKey, table] of routeTables) {
    for (const rule of table.rules) {
      ruleHandlers.set(rule, buildRuleHandler(rule, parentKey, services, options.onMirror));
    }
  }
  const defaultHandlers = new Map<string, Handler>();
  for (const [key, service] of services) defaultHandlers.set(key, buildDefaultHandler(service, services));

  const poolKeys = new Set<string>(inbound.poolKeys);
  for (const service of services.values()) for (const k of service.poolKeys) poolKeys.add(k);
  options.pools.retain(poolKeys);

  return {
    ok: true,
    config: {
      generation: options.generation,
      version: policy.hash.slice(0, 12),
      source: options.source ?? '',
      loadedAt: kept?.loadedAt ?? new Date(),
      policy,
      mesh,
      services,
      routeTables,
      ruleHandlers,
      defaultHandlers,
      inbound,
      inboundHandler: kept?.inboundHandler ?? stack((ctx) => inbound.handler(ctx), inbound.rateLimit?.layer, deadline(inbound.settings.requestTimeoutMs)),
    },
  };
}

/** Services the routes send or mirror to, and TrafficPolicy fallbacks. */
function referencedServices(routeTables: ReadonlyMap<string, RouteTable>, policy: PolicySet): Set<string> {
  const keys = new Set<string>();
  for (const table of routeTables.values()) {
    for (const rule of table.rules) {
      for (const backend of rule.backends.all) keys.add(`${backend.service}.${backend.namespace}`);
      for (const filter of rule.filters) {
        if (filter.type === 'RequestMirror') keys.add(`${filter.requestMirror.backendRef.name}.${filter.requestMirror.backendRef.namespace ?? rule.route.namespace}`);
      }
    }
  }
  for (const { resource } of policy.trafficPolicies) {
    const fallback = resource.spec.fallback;
    if (!fallback || !('backendRef' in fallback)) continue;
    // As serviceEntry resolves it: a ref without namespace is in the namespace of the Service it falls back for.
    for (const target of resource.spec.targetRefs) {
      keys.add(`${fallback.backendRef.name}.${fallback.backendRef.namespace ?? target.namespace ?? resource.metadata.namespace}`);
    }
  }
  return keys;
}

function splitKey(key: string): [string, string] {
  const dot = key.lastIndexOf('.');
  return [key.slice(0, dot), key.slice(dot + 1)];
}

