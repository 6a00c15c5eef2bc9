import type { FieldPath } from './locate.ts';
import type { HTTPRoute, HTTPRouteFilter, Resource, TrafficPolicy } from './schema/index.ts';
import type { SourceDocument } from './documents.ts';
import type { ConfigError } from './types.ts';

/** A valid resource and the document it came from, for checks that span resources. */
export interface LocatedResource {
  resource: Resource;
  doc: SourceDocument;
}

interface BackendReference {
  name: string;
  namespace: string | undefined;
  path: FieldPath;
}

/** Checks that need the whole set: uniqueness, one policy per Service, and endpoints for every backend. */
export function checkAcrossResources(resources: readonly LocatedResource[], requireEndpoints: boolean): ConfigError[] {
  return [
    ...checkUniqueNames(resources),
    ...checkSingleMesh(resources),
    ...checkPolicyTargets(resources),
    ...checkAutoscalingTargets(resources),
    ...(requireEndpoints ? checkBackendEndpoints(resources) : []),
  ];
}

function checkUniqueNames(resources: readonly LocatedResource[]): ConfigError[] {
  const errors: ConfigError[] = [];
  const first = new Map<string, LocatedResource>();
  for (const located of resources) {
    const { resource, doc } = located;
    // A second Mesh is reported by checkSingleMesh, whatever its name.
    if (resource.kind === 'Mesh') continue;
    const key = `${resource.kind} ${qualified(resource.metadata.namespace, resource.metadata.name)}`;
    const earlier = first.get(key);
    if (earlier) errors.push(doc.errorAt(['metadata', 'name'], `duplicate ${key}, already defined at ${where(earlier)}`));
    else first.set(key, located);
  }
  return errors;
}

function checkSingleMesh(resources: readonly LocatedResource[]): ConfigError[] {
  const meshes = resources.filter(({ resource }) => resource.kind === 'Mesh');
  const [first, ...others] = meshes;
  if (!first) return [];
  return others.map(({ doc }) => doc.errorAt(['kind'], `only one Mesh is allowed, and one is already defined at ${where(first)}`));
}

function checkPolicyTargets(resources: readonly LocatedResource[]): ConfigError[] {
  const errors: ConfigError[] = [];
  const owners = new Map<string, LocatedResource>();
  for (const located of resources) {
    const { resource, doc } = located;
    if (resource.kind !== 'TrafficPolicy') continue;
    resource.spec.targetRefs.forEach((target, t) => {
      const service = qualified(target.namespace ?? resource.metadata.namespace, target.name);
      const owner = owners.get(service);
      if (!owner) {
        owners.set(service, located);
        return;
      }
      const message =
        owner === located
          ? `Service ${service} is listed twice in targetRefs`
          : `Service ${service} is already targeted by TrafficPolicy ${nameOf(owner.resource)} at ${where(owner)}; a Service takes one TrafficPolicy, so merge them`;
      errors.push(doc.errorAt(['spec', 'targetRefs', t, 'name'], message));
    });
  }
  return errors;
}

/** Two AutoscalingSignals for one Service would give it two competing recommendations. */
function checkAutoscalingTargets(resources: readonly LocatedResource[]): ConfigError[] {
  const owners = new Map<string, LocatedResource>();
  const errors: ConfigError[] = [];
  for (const located of resources) {
    const { resource, doc } = located;
    if (resource.kind !== 'AutoscalingSignal') continue;
    const service = qualified(resource.spec.targetRef.namespace ?? resource.metadata.namespace, resource.spec.targetRef.name);
    const owner = owners.get(service);
    if (!owner) owners.set(service, located);
    else errors.push(doc.errorAt(['spec', 'targetRef', 'name'], `Service ${service} is already targeted by AutoscalingSignal ${nameOf(owner.resource)} at ${where(owner)}; a Service takes one AutoscalingSignal, so merge them`));
  }
  return errors;
}

function checkBackendEndpoints(resources: readonly LocatedResource[]): ConfigError[] {
  const withEndpoints = new Set(
    resources.flatMap(({ resource }) => (resource.kind === 'ServiceEndpoints' ? [qualified(resource.metadata.namespace, resource.metadata.name)] : [])),
  );
  const errors: ConfigError[] = [];
  for (const { resource, doc } of resources) {
    if (resource.kind !== 'HTTPRoute' && resource.kind !== 'TrafficPolicy') continue;
    const references = resource.kind === 'HTTPRoute' ? routeBackends(resource) : policyBackends(resource);
    for (const reference of references) {
      const namespace = reference.namespace ?? resource.metadata.namespace;
      if (withEndpoints.has(qualified(namespace, reference.name))) continue;
      errors.push(
        doc.errorAt(
          reference.path,
          `Service ${qualified(namespace, reference.name)} has no endpoints: add a ServiceEndpoints with metadata.name "${reference.name}" and metadata.namespace "${namespace}"`,
        ),
      );
    }
  }
  return errors;
}

function routeBackends(route: HTTPRoute): BackendReference[] {
  const references: BackendReference[] = [];
  route.spec.rules.forEach((rule, r) => {
    const rulePath = ['spec', 'rules', r];
    references.push(...mirrorBackends(rule.filters, [...rulePath, 'filters']));
    rule.backendRefs?.forEach((backend, b) => {
      const backendPath = [...rulePath, 'backendRefs', b];
      references.push({ name: backend.name, namespace: backend.namespace, path: [...backendPath, 'name'] });
      references.push(...mirrorBackends(backend.filters, [...backendPath, 'filters']));
    });
  });
  return references;
}

function mirrorBackends(filters: readonly HTTPRouteFilter[] | undefined, path: FieldPath): BackendReference[] {
  return (filters ?? []).flatMap((filter, f) => {
    if (filter.type !== 'RequestMirror') return [];
    const { name, namespace } = filter.requestMirror.backendRef;
    return [{ name, namespace, path: [...path, f, 'requestMirror', 'backendRef', 'name'] }];
  });
}

function policyBackends(policy: TrafficPolicy): BackendReference[] {
  const fallback = policy.spec.fallback;
  if (!fallback || !('backendRef' in fallback)) return [];
  const { name, namespace } = fallback.backendRef;
  return [{ name, namespace, path: ['spec', 'fallback', 'backendRef', 'name'] }];
}

function qualified(namespace: string | undefined, name: string): string {
  return namespace === undefined ? `"${name}"` : `"${namespace}/${name}"`;
}

function nameOf(resource: Resource): string {
  return qualified(resource.metadata.namespace, resource.metadata.name);
}

function where({ doc }: LocatedResource): string {
  return `${doc.file}:${doc.line}`;
}
