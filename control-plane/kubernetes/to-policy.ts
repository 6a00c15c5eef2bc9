import { stringify } from 'yaml';
import type { SnapshotFile } from '../../policy/snapshot/snapshot.ts';

/** The parts of a Kubernetes object the conversion reads. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: unknown;
}

export interface EndpointSlice {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  addressType?: string;
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean | null; terminating?: boolean | null }; zone?: string }[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * A cluster object as a policy file for the snapshot: only apiVersion, kind, name, namespace and spec, so what the
 * API server adds (status, managedFields, uids) neither breaks validation nor changes the content hash.
 */
export function policyFile(object: KubeObject, fallbackKind: string): SnapshotFile | undefined {
  const name = object.metadata?.name;
  if (!name) return undefined;
  const namespace = object.metadata?.namespace ?? 'default';
  const kind = object.kind ?? fallbackKind;
  const document = { apiVersion: object.apiVersion, kind, metadata: { name, namespace }, spec: object.spec };
  return { name: `kubernetes/${kind}/${namespace}/${name}.yaml`, text: stringify(document) };
}

/**
 * An HTTPRoute as the mesh uses it: only its Service parents (the GAMMA profile). Routes attached to Gateways only
 * belong to a gateway controller and are left out rather than failing the whole snapshot.
 */
export function meshRoute(route: KubeObject): KubeObject | undefined {
  const spec = route.spec as { parentRefs?: { group?: string; kind?: string }[] } | undefined;
  const parents = (spec?.parentRefs ?? []).filter((ref) => ref.kind === 'Service' && (ref.group === undefined || ref.group === '' || ref.group === 'core'));
  if (parents.length === 0) return undefined;
  return { ...route, spec: { ...spec, parentRefs: parents } };
}

/**
 * Each Service's ready endpoints, from its EndpointSlices, as ServiceEndpoints policy files. The port is the slice's
 * port named `http`, else its first TCP port; terminating and unready endpoints are left out.
 */
export function endpointFiles(slices: readonly EndpointSlice[]): SnapshotFile[] {
  const byService = new Map<string, { namespace: string; service: string; endpoints: { address: string; zone?: string }[] }>();
  for (const slice of slices) {
    const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    const namespace = slice.metadata?.namespace ?? 'default';
    if (!service || (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6')) continue;
    const tcp = (slice.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP' && typeof p.port === 'number');
    const port = (tcp.find((p) => p.name === 'http') ?? tcp[0])?.port;
    const key = `${namespace}/${service}`;
    const entry = byService.get(key) ?? { namespace, service, endpoints: [] };
    byService.set(key, entry);
    if (port === undefined) continue;
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false || endpoint.conditions?.terminating === true) continue;
      const ip = endpoint.addresses?.[0];
      if (!ip) continue;
      const address = slice.addressType === 'IPv6' ? `[${ip}]:${port}` : `${ip}:${port}`;
      entry.endpoints.push(endpoint.zone ? { address, zone: endpoint.zone } : { address });
    }
  }
  return [...byService.values()]
    .sort((a, b) => `${a.namespace}/${a.service}`.localeCompare(`${b.namespace}/${b.service}`))
    .map(({ namespace, service, endpoints }) => ({
      name: `kubernetes/EndpointSlice/${namespace}/${service}.yaml`,
      text: stringify({
        apiVersion: 'outrigger.dev/v1alpha1',
        kind: 'ServiceEndpoints',
        metadata: { name: service, namespace },
        spec: { endpoints: endpoints.sort((a, b) => a.address.localeCompare(b.address)) },
      }),
    }));
}
