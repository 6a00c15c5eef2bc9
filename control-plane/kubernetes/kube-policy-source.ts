import { CustomObjectsApi, DiscoveryV1Api, makeInformer, type Informer, type KubeConfig, type KubernetesListObject, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from '../../mesh/log.ts';
import type { SnapshotFile } from '../../policy/snapshot/snapshot.ts';
import { endpointFiles, meshRoute, policyFile, type EndpointSlice, type KubeObject } from './to-policy.ts';

interface CustomKind {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

/** The cluster kinds that feed snapshots beside the policy folder. */
const CUSTOM_KINDS: readonly CustomKind[] = [
  { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', kind: 'HTTPRoute' },
  { group: 'outrigger.dev', version: 'v1alpha1', plural: 'trafficpolicies', kind: 'TrafficPolicy' },
  { group: 'outrigger.dev', version: 'v1alpha1', plural: 'autoscalingsignals', kind: 'AutoscalingSignal' },
];

type Watched = Informer<KubernetesObject> & ObjectCache<KubernetesObject>;

export interface KubePolicySourceOptions {
  kubeConfig: KubeConfig;
  /** Called (at most every `settleMs`) when anything watched changed; the snapshot builder then rebuilds. */
  onChange: () => void;
  log: Logger;
  /** Wait before restarting a watch that failed (the API server restarted, a CRD is not installed yet). */
  retryMs?: number;
}

/**
 * HTTPRoutes, TrafficPolicies and AutoscalingSignals from the cluster, and each Service's ready endpoints from its
 * EndpointSlices, kept current by informers (list, then watch) and turned into policy files for the snapshot
 * builder, so the cluster feeds the same validated, signed snapshot as the policy folder. A kind whose CRD is not
 * installed is retried, not fatal.
 */
export class KubePolicySource {
  private readonly informers: { name: string; informer: Watched; kind: string }[] = [];
  private readonly options: KubePolicySourceOptions;
  private readonly synced = new Set<string>();
  private closed = false;

  constructor(options: KubePolicySourceOptions) {
    this.options = options;
    const custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
    for (const kind of CUSTOM_KINDS) {
      const path = `/apis/${kind.group}/${kind.version}/${kind.plural}`;
      const list = (): Promise<KubernetesListObject<KubernetesObject>> =>
        custom.listClusterCustomObject({ group: kind.group, version: kind.version, plural: kind.plural }) as Promise<KubernetesListObject<KubernetesObject>>;
      this.informers.push({ name: kind.plural, informer: makeInformer(options.kubeConfig, path, list), kind: kind.kind });
    }
    const discovery = options.kubeConfig.makeApiClient(DiscoveryV1Api);
    const slices = (): Promise<KubernetesListObject<KubernetesObject>> => discovery.listEndpointSliceForAllNamespaces() as Promise<KubernetesListObject<KubernetesObject>>;
    this.informers.push({ name: 'endpointslices', informer: makeInformer(options.kubeConfig, '/apis/discovery.k8s.io/v1/endpointslices', slices), kind: 'EndpointSlice' });
  }

  /** Starts every informer; resolves once each has listed once or failed (a failed one keeps retrying). */
  async start(): Promise<void> {
    await Promise.all(this.informers.map((entry) => this.run(entry)));
  }

  /** Policy files for everything the informers hold now. */
  files(): SnapshotFile[] {
    const files: SnapshotFile[] = [];
    for (const { informer, kind } of this.informers) {
      if (kind === 'EndpointSlice') {
        files.push(...endpointFiles(informer.list() as EndpointSlice[]));
        continue;
      }
      for (const object of informer.list() as KubeObject[]) {
        const usable = kind === 'HTTPRoute' ? meshRoute(object) : object;
        const file = usable ? policyFile(usable, kind) : undefined;
        if (file) files.push(file);
      }
    }
    return files.sort((a, b) => a.name.localeCompare(b.name));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.informers.map(({ informer }) => informer.stop().catch(() => undefined)));
  }

  private async run(entry: { name: string; informer: Watched }): Promise<void> {
    const { informer, name } = entry;
    const changed = (): void => {
      if (!this.closed) this.options.onChange();
    };
    for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, changed);
    informer.on('connect', () => {
      if (!this.synced.has(name)) this.options.log.info('watching the cluster', { resource: name });
      this.synced.add(name);
    });
    informer.on('error', (error: unknown) => {
      if (this.closed) return;
      this.options.log.warn('cluster watch failed; retrying', { resource: name, error: describe(error), inMs: this.options.retryMs ?? 5_000 });
      setTimeout(() => {
        if (!this.closed) informer.start().catch(() => undefined);
      }, this.options.retryMs ?? 5_000).unref();
    });
    try {
      await informer.start();
      changed();
    } catch (error) {
      // The informer emits 'error' too, which schedules the retry.
      this.options.log.debug('initial list failed', { resource: name, error: describe(error) });
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'object' && error !== null && 'code' in error ? `HTTP ${String((error as { code: unknown }).code)}` : String(error);
}
