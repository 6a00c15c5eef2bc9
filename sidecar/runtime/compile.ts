import type { ConfigError, PolicySet } from '../../policy/load.ts';
import { meshSpec, type MeshSpec } from '../../policy/schema/mesh.ts';
import type { TrafficPolicy } from '../../policy/schema/traffic-policy.ts';
import { compileRouteTables, RouteCompileError, type CompiledRule, type RouteTable } from '../routing/route-table.ts';
import type { UpstreamPools } from '../upstream/pools.ts';
import type { Handler } from '../pipeline/context.ts';
import type { Logger } from '../log.ts';
import { buildService, type EndpointInput, type ServiceRuntime } from './service.ts';
import { serviceSettings } from './settings.ts';
import { buildRuleHandler, buildDefaultHandler, type MirrorReport } from './rule-handler.ts';
import { deadline } from '../layers/deadline.ts';
import { stack } from '../pipeline/context.ts';

/** One generation of the sidecar's configuration, built once when config loads and swapped atomically. */
export interface RuntimeConfig {
  readonly generation: number;
  /** Content hash of the policy files: the config version. */
  readonly version: string;
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
  let routeTables: Map<string, RouteTable>;
  try {
    routeTables = compileRouteTables(policy.routes);
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

  const services = new Map<string, ServiceRuntime>();
  for (const key of serviceKeys) {
    const [name = '', namespace = ''] = splitKey(key);
    const settings = serviceSettings(mesh, policies.get(key));
    services.set(key, buildService(name, namespace, endpointsByService.get(key) ?? [], settings, options.pools, options.previous?.services.get(key), options.log));
  }
  const { name: localName, namespace: localNamespace } = options.localService;
  const localKey = `${localName}.${localNamespace}`;
  const inbound = buildService(
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
      loadedAt: new Date(),
      policy,
      mesh,
      services,
      routeTables,
      ruleHandlers,
      defaultHandlers,
      inbound,
      inboundHandler: stack((ctx) => inbound.handler(ctx), inbound.rateLimit?.layer, deadline(inbound.settings.requestTimeoutMs)),
    },
  };
}

function splitKey(key: string): [string, string] {
  const dot = key.lastIndexOf('.');
  return [key.slice(0, dot), key.slice(dot + 1)];
}

