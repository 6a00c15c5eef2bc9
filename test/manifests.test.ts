import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { loadPolicyTexts } from '../policy/index.ts';
import { documentsOfFile, isRecord, REPO_ROOT, yamlFiles, type ExampleDocument } from '../policy/crd/examples.ts';
import { crdInstanceValidator, type InstanceValidator } from '../policy/crd/instance-validator.ts';
import { unknownFieldProblems, validateOfficial, type TypedDocument } from '../policy/crd/official-schemas.ts';
import type { JsonSchema } from '../policy/crd/structural.ts';
import { findOnPath, freePort } from './support/local-tools.ts';
import { writeMeshKeys } from './support/mesh-processes.ts';

/** Every manifest and Kubernetes example validated against the official schemas, and the install's wiring checked. */

type Labels = Record<string, string>;
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels; annotations?: Labels };
  [field: string]: unknown;
}
interface LabelSelector { matchLabels?: Labels; matchExpressions?: { key: string; operator: string; values?: string[] }[] }
interface Container {
  name: string; image: string; args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Labels; limits?: Labels };
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume { name: string; configMap?: { name: string }; secret?: { secretName: string }; emptyDir?: object }
interface PodSpec {
  serviceAccountName?: string; securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  affinity?: { podAntiAffinity?: { preferredDuringSchedulingIgnoredDuringExecution?: { podAffinityTerm: { topologyKey: string; labelSelector: LabelSelector } }[]; requiredDuringSchedulingIgnoredDuringExecution?: { topologyKey: string; labelSelector: LabelSelector }[] } };
  containers: Container[]; volumes?: Volume[];
}
interface Deployment extends K8sObject { spec: { replicas: number; selector: LabelSelector; template: { metadata: { labels: Labels }; spec: PodSpec } } }
interface Service extends K8sObject { spec: { clusterIP?: string; publishNotReadyAddresses?: boolean; selector: Labels; ports: { name: string; port: number; targetPort: string | number; protocol?: string }[] } }
interface Rule { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }
interface ServiceRef { name: string; namespace: string; port: number; path?: string }
interface Webhook {
  name: string; clientConfig: { service: ServiceRef }; failurePolicy: string; sideEffects: string; admissionReviewVersions: string[];
  reinvocationPolicy: string; timeoutSeconds: number; namespaceSelector?: LabelSelector; objectSelector?: LabelSelector;
  rules: { operations: string[]; apiGroups: string[]; apiVersions: string[]; resources: string[] }[];
}

const isObject = (doc: unknown): doc is K8sObject => isRecord(doc) && typeof doc.apiVersion === 'string' && typeof doc.kind === 'string';
const topLevel = (d: ExampleDocument): boolean => !d.where.includes(' data.');

const manifestDocs = yamlFiles('manifests').flatMap(documentsOfFile);
/** Kubernetes-shaped documents under examples/ (examples/kubernetes/ and any manifest beside the other examples). */
const exampleDocs = yamlFiles('examples').flatMap(documentsOfFile).filter((d) => isObject(d.doc));
const objects = manifestDocs.filter(topLevel).map((d) => d.doc).filter(isObject);
const kustomization = objects.find((o) => o.kind === 'Kustomization') as (K8sObject & { resources: string[]; images?: { name: string; newName?: string; newTag?: string }[] }) | undefined;
const installedFiles = new Set((kustomization?.resources ?? []).map((r) => `manifests/${r}`));
const installed = manifestDocs.filter((d) => topLevel(d) && installedFiles.has(d.where.slice(0, d.where.indexOf('#')))).map((d) => d.doc as K8sObject);
const find = <T extends K8sObject>(kind: string, name: string): T => {
  const found = installed.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `manifests install ${kind} ${name}`);
  return found as T;
};
const controlPlane = (): Deployment => find<Deployment>('Deployment', 'outrigger-control-plane');
const container = (): Container => {
  const first = controlPlane().spec.template.spec.containers[0];
  assert.ok(first);
  return first;
};

function crdValidators(): Map<string, InstanceValidator> {
  return new Map(objects.filter((o) => o.kind === 'CustomResourceDefinition').map((crd) => [
    `${(crd.spec as { group: string }).group}/${(crd.spec as { versions: { name: string }[] }).versions[0]?.name ?? ''}/${(crd.spec as { names: { kind: string } }).names.kind}`,
    crdInstanceValidator(crd as JsonSchema),
  ]));
}

test('every YAML document under manifests/ parses and names its apiVersion, kind and name', () => {
  assert.ok(manifestDocs.length > 20);
  for (const { where, doc } of manifestDocs) {
    assert.ok(isObject(doc), `${where}: apiVersion and kind`);
    if (doc.kind !== 'Kustomization') assert.match(String(doc.metadata?.name ?? ''), /^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$/, `${where}: metadata.name`);
  }
});

test('every document validates against the official schema of its apiVersion and kind, with no unknown fields', async (t) => {
  const validators = crdValidators();
  const typed: TypedDocument[] = [];
  const notValidated: string[] = [];
  let count = 0;
  for (const { where, doc } of [...manifestDocs, ...exampleDocs]) {
    if (!isObject(doc)) continue;
    const ours = validators.get(`${doc.apiVersion}/${doc.kind}`);
    if (ours) {
      assert.deepEqual(ours(doc), [], `${where}: ${doc.kind} against manifests/crds/`);
      count++;
    } else if (doc.apiVersion === 'kustomize.config.k8s.io/v1beta1' && doc.kind === 'Kustomization') {
      // kustomize's own file, not an API object: its fields are checked here, its resources in the next test.
      const known = new Set(['apiVersion', 'kind', 'metadata', 'resources', 'components', 'images', 'namespace', 'namePrefix', 'nameSuffix', 'labels',
        'commonLabels', 'commonAnnotations', 'patches', 'patchesStrategicMerge', 'patchesJson6902', 'configMapGenerator', 'secretGenerator',
        'generatorOptions', 'replicas', 'replacements', 'crds', 'openapi', 'helmCharts', 'sortOptions', 'buildMetadata']);
      for (const key of Object.keys(doc)) assert.ok(known.has(key), `${where}: unexpected kustomization field ${key}`);
      notValidated.push(`${where} (Kustomization: checked by this test, no published schema)`);
    } else {
      const result = await validateOfficial(doc);
      if (!result.validated) {
        notValidated.push(`${where} (${doc.apiVersion} ${doc.kind}: ${result.reason})`);
        assert.ok(!where.startsWith('manifests/'), `${where}: every manifest must be validated by a schema (${result.reason})`);
        continue;
      }
      assert.deepEqual(result.problems, [], `${where}: ${doc.apiVersion} ${doc.kind}`);
      typed.push({ where, doc });
      count++;
    }
  }
  assert.deepEqual(unknownFieldProblems(typed), [], 'unknown fields (kubectl apply refuses them under strict field validation)');
  t.diagnostic(`validated ${count} documents against official or generated schemas; not schema-validated: ${notValidated.join('; ') || 'none'}`);
});

test('the validators catch a wrong type and an unknown field (so the test above means something)', async () => {
  const broken = structuredClone(controlPlane()) as unknown as { spec: Record<string, unknown> & { template: { spec: { containers: Record<string, unknown>[] } } } };
  broken.spec.replicas = 'two';
  const result = await validateOfficial(broken as unknown as K8sObject);
  assert.ok(result.validated && result.problems.some((p) => p.includes('/spec/replicas')), JSON.stringify(result));
  const typo = structuredClone(controlPlane()) as unknown as typeof broken;
  (typo.spec.template.spec.containers[0] as Record<string, unknown>).readinesProbe = {};
  assert.match(unknownFieldProblems([{ where: 'typo', doc: typo as unknown as K8sObject }]).join('\n'), /typo: .*'"readinesProbe"' does not exist/);
});

test('kustomization.yaml installs every manifest but the examples, each file once, with the Deployment\'s image', () => {
  assert.ok(kustomization, 'manifests/kustomization.yaml');
  for (const resource of kustomization.resources) assert.ok(existsSync(join(REPO_ROOT, 'manifests', resource)), `resource ${resource} exists`);
  assert.equal(new Set(kustomization.resources).size, kustomization.resources.length);
  const expected = yamlFiles('manifests').filter((f) => !f.startsWith('manifests/examples/') && f !== 'manifests/kustomization.yaml');
  assert.deepEqual([...installedFiles].sort(), expected.sort());
  const [imageName] = container().image.split(':');
  assert.ok(kustomization.images?.some((i) => i.name === imageName), 'the images entry overrides the Deployment\'s image');
  for (const crd of readdirSync(join(REPO_ROOT, 'manifests/crds'))) assert.ok(installedFiles.has(`manifests/crds/${crd}`), `crds/${crd} installed`);
});

test('RBAC: no wildcards, no cluster-admin, nothing but reads, and the reads the control plane needs', async () => {
  const roles = installed.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role') as (K8sObject & { rules: Rule[] })[];
  for (const role of roles) {
    for (const rule of role.rules) {
      for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames', 'nonResourceURLs'] as const) {
        assert.ok(!(rule[field] ?? []).some((v) => v.includes('*')), `${role.metadata.name}: no wildcard in ${field}`);
      }
      assert.deepEqual(rule.verbs.filter((v) => !['get', 'list', 'watch'].includes(v)), [], `${role.metadata.name}: read-only`);
      assert.ok(!(rule.resources ?? []).includes('secrets'), `${role.metadata.name}: no Secrets`);
    }
  }
  const builtIn = new Set(['ClusterRole/system:auth-delegator', 'Role/extension-apiserver-authentication-reader']);
  for (const binding of installed.filter((o) => o.kind.endsWith('Binding')) as (K8sObject & { roleRef: { kind: string; name: string }; subjects: { kind: string; name: string; namespace: string }[] })[]) {
    const ref = `${binding.roleRef.kind}/${binding.roleRef.name}`;
    assert.ok(!['cluster-admin', 'admin', 'edit'].includes(binding.roleRef.name), `${binding.metadata.name} binds ${ref}`);
    assert.ok(builtIn.has(ref) || roles.some((r) => r.kind === binding.roleRef.kind && r.metadata.name === binding.roleRef.name), `${binding.metadata.name}: ${ref} is defined`);
    for (const subject of binding.subjects) {
      const known = (subject.namespace === 'kube-system' && subject.name === 'horizontal-pod-autoscaler') || installed.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === subject.name && o.metadata.namespace === subject.namespace);
      assert.ok(known, `${binding.metadata.name}: subject ${subject.namespace}/${subject.name} exists`);
    }
  }
  const bound = installed.find((o) => o.kind === 'ClusterRoleBinding' && (o.subjects as { name: string }[]).some((s) => s.name === controlPlane().spec.template.spec.serviceAccountName) && (o.roleRef as { name: string }).name === 'outrigger-control-plane');
  assert.ok(bound, 'the control plane\'s service account is bound to its ClusterRole');
  const rules = find<K8sObject & { rules: Rule[] }>('ClusterRole', 'outrigger-control-plane').rules;
  const allows = (group: string, resource: string): boolean => ['get', 'list', 'watch'].every((verb) => rules.some((r) => (r.apiGroups ?? []).includes(group) && (r.resources ?? []).includes(resource) && r.verbs.includes(verb)));
  const plurals = installed.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => (o.spec as { names: { plural: string } }).names.plural);
  for (const [group, resource] of [['', 'namespaces'], ['', 'pods'], ['', 'services'], ['discovery.k8s.io', 'endpointslices'], ['gateway.networking.k8s.io', 'httproutes'], ...plurals.map((p) => ['outrigger.dev', p])] as const) {
    assert.ok(allows(group, resource), `the control plane may get, list and watch ${resource}${group ? `.${group}` : ''}`);
  }
  // The HPA controller may read exactly the metrics the control plane serves.
  const metricRule = find<K8sObject & { rules: Rule[] }>('ClusterRole', 'outrigger-external-metrics-reader').rules[0];
  const metricNames = [...(metricRule?.resources ?? [])].sort();
  assert.ok(metricNames.includes('outrigger_requests_per_second'));
  try {
    const served = (await import(join(REPO_ROOT, 'control-plane/autoscaling/signal-metrics.ts'))) as { SIGNAL_METRICS: { external: string }[] };
    assert.deepEqual(metricNames, served.SIGNAL_METRICS.map((m) => m.external).sort());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
  }
});

test('the control plane Deployment: 2+ replicas spread over nodes and zones, a PDB, probes, non-root, read-only, resources', () => {
  const deployment = controlPlane();
  const pod = deployment.spec.template;
  assert.ok(deployment.spec.replicas >= 2);
  assert.ok(matches(deployment.spec.selector, pod.metadata.labels), 'the selector selects the template');
  const terms = pod.spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.map((p) => p.podAffinityTerm) ?? [];
  for (const key of ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']) {
    const term = terms.find((t) => t.topologyKey === key);
    assert.ok(term && matches(term.labelSelector, pod.metadata.labels), `anti-affinity across ${key} selects the replicas`);
  }
  const pdbs = installed.filter((o) => o.kind === 'PodDisruptionBudget' && o.metadata.namespace === deployment.metadata.namespace) as (K8sObject & { spec: { minAvailable: number; selector: LabelSelector } })[];
  const pdb = pdbs.find((p) => matches(p.spec.selector, pod.metadata.labels));
  assert.ok(pdb, 'a PodDisruptionBudget selects the control plane');
  assert.ok(pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < deployment.spec.replicas, 'minAvailable lets one replica go at a time');
  const c = container();
  const portNumber = (port: string | number | undefined): number | undefined => (typeof port === 'number' ? port : c.ports?.find((p) => p.name === port)?.containerPort);
  assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
  assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');
  assert.equal(portNumber(c.readinessProbe?.httpGet?.port), 15080);
  assert.equal(portNumber(c.livenessProbe?.httpGet?.port), 15080);
  assert.equal(pod.spec.securityContext?.runAsNonRoot, true);
  assert.notEqual(pod.spec.securityContext?.runAsUser, 0);
  assert.deepEqual([c.securityContext?.runAsNonRoot, c.securityContext?.readOnlyRootFilesystem, c.securityContext?.allowPrivilegeEscalation], [true, true, false]);
  assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
  assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory && c.resources.limits?.memory, 'requests and a memory limit');
});

test('the environment: every variable is one `outrigger control-plane` reads, every file it names is mounted, every volume has a source', () => {
  const help = spawnSync(process.execPath, [join(REPO_ROOT, 'cli/outrigger.js'), 'control-plane', '--help'], { encoding: 'utf8' }).stdout;
  const known = new Set([...help.matchAll(/env (OUTRIGGER_[A-Z_]+)/g)].map((m) => m[1]));
  const c = container();
  const env = new Map((c.env ?? []).map((e) => [e.name, e]));
  for (const name of env.keys()) if (name.startsWith('OUTRIGGER_')) assert.ok(known.has(name), `${name} is a control-plane flag`);
  assert.deepEqual(c.args, ['control-plane']);
  const expected: Labels = {
    OUTRIGGER_GOSSIP_HOST: '0.0.0.0', OUTRIGGER_API_HOST: '0.0.0.0', OUTRIGGER_JOIN: 'outrigger-gossip.outrigger-system.svc.cluster.local:7946',
    OUTRIGGER_CONFIG: '/etc/outrigger/policies',
  };
  for (const [name, value] of Object.entries(expected)) assert.equal(env.get(name)?.value, value, name);
  assert.equal(env.get('OUTRIGGER_ADVERTISE_HOST')?.valueFrom?.fieldRef?.fieldPath, 'status.podIP');
  // The ports the Services and probes use are the CLI's defaults.
  assert.match(help, /OUTRIGGER_API_PORT, default 15080/);
  assert.match(help, /OUTRIGGER_GOSSIP_PORT, default 7946/);
  const volumes = new Map((controlPlane().spec.template.spec.volumes ?? []).map((v) => [v.name, v]));
  const mounts = c.volumeMounts ?? [];
  const volumeAt = (path: string): Volume | undefined => {
    const mount = mounts.find((m) => path === m.mountPath || path.startsWith(`${m.mountPath}/`));
    return mount ? volumes.get(mount.name) : undefined;
  };
  for (const m of mounts) assert.ok(volumes.has(m.name), `volume ${m.name} exists`);
  assert.equal(volumeAt('/etc/outrigger/policies')?.configMap?.name, 'outrigger-policies');
  assert.equal(volumeAt(env.get('OUTRIGGER_SIGNING_KEY')?.value ?? '')?.secret?.secretName, 'outrigger-signing-key');
  assert.equal(volumeAt(env.get('OUTRIGGER_GOSSIP_KEY')?.value ?? '')?.secret?.secretName, 'outrigger-gossip-key');
  assert.ok(volumeAt(env.get('OUTRIGGER_STATE_DIR')?.value ?? '')?.emptyDir, 'the state dir is an emptyDir');
  assert.equal(volumeAt('/etc/outrigger/tls/tls.crt')?.secret?.secretName, 'outrigger-webhook-tls');
  // Every source exists: a ConfigMap here, a Secret cert-manager writes, or a Secret the README says how to create.
  const readme = readFileSync(join(REPO_ROOT, 'manifests/README.md'), 'utf8');
  for (const volume of volumes.values()) {
    if (volume.configMap) assert.ok(installed.some((o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap?.name), volume.configMap.name);
    if (volume.secret) {
      const name = volume.secret.secretName;
      const issued = installed.some((o) => o.kind === 'Certificate' && (o.spec as { secretName: string }).secretName === name);
      const file = basename(env.get(name === 'outrigger-signing-key' ? 'OUTRIGGER_SIGNING_KEY' : 'OUTRIGGER_GOSSIP_KEY')?.value ?? '');
      assert.ok(issued || readme.includes(`kubectl create secret generic ${name} -n outrigger-system --from-file=${file}=`), `Secret ${name}: issued or documented`);
    }
  }
});

test('Services, webhook and APIService reach ports that exist, over a certificate that names the Service', () => {
  const pod = controlPlane().spec.template;
  const containerPorts = container().ports ?? [];
  const services = installed.filter((o) => o.kind === 'Service') as Service[];
  for (const service of services) {
    assert.ok(matches({ matchLabels: service.spec.selector }, pod.metadata.labels), `${service.metadata.name} selects the control plane`);
    for (const port of service.spec.ports) {
      const target = containerPorts.find((p) => p.name === port.targetPort || p.containerPort === port.targetPort);
      assert.ok(target, `${service.metadata.name}:${port.port} → ${port.targetPort}`);
      assert.equal(target.protocol ?? 'TCP', port.protocol ?? 'TCP');
    }
  }
  const gossip = find<Service>('Service', 'outrigger-gossip');
  assert.equal(gossip.spec.clusterIP, 'None');
  assert.equal(gossip.spec.publishNotReadyAddresses, true);
  assert.deepEqual(gossip.spec.ports.map((p) => `${p.port}/${p.protocol}`).sort(), ['7946/TCP', '7946/UDP']);
  const api = find<Service>('Service', 'outrigger-control-plane');
  const https = api.spec.ports.find((p) => p.port === 443);
  assert.equal(containerPorts.find((p) => p.name === https?.targetPort)?.containerPort, 15017);
  assert.ok(api.spec.ports.some((p) => p.port === 15080));

  const webhookConfig = find<K8sObject & { webhooks: Webhook[] }>('MutatingWebhookConfiguration', 'outrigger-sidecar-injector');
  const apiService = find<K8sObject & { spec: { service: ServiceRef; groupPriorityMinimum: number; versionPriority: number } }>('APIService', 'v1beta1.external.metrics.k8s.io');
  const refs: ServiceRef[] = [...webhookConfig.webhooks.map((w) => w.clientConfig.service), apiService.spec.service];
  for (const ref of refs) assert.deepEqual([ref.name, ref.namespace, ref.port], ['outrigger-control-plane', 'outrigger-system', 443]);
  // The namespace entry calls /inject/namespace (the namespace is known to be opted in), the pod entry /inject.
  assert.deepEqual(webhookConfig.webhooks.map((w) => w.clientConfig.service.path).sort(), ['/inject', '/inject/namespace']);
  for (const w of webhookConfig.webhooks) {
    assert.deepEqual([w.failurePolicy, w.sideEffects, w.reinvocationPolicy, w.timeoutSeconds], ['Ignore', 'None', 'IfNeeded', 10]);
    assert.deepEqual(w.admissionReviewVersions, ['v1']);
    assert.deepEqual(w.rules.map((r) => [r.operations, r.apiGroups, r.apiVersions, r.resources]), [[['CREATE'], [''], ['v1'], ['pods']]]);
  }
  assert.deepEqual([apiService.spec.groupPriorityMinimum, apiService.spec.versionPriority], [100, 100]);

  const certificates = installed.filter((o) => o.kind === 'Certificate') as (K8sObject & { spec: { secretName: string; dnsNames?: string[]; isCA?: boolean; issuerRef: { name: string; kind: string } } })[];
  for (const owner of [webhookConfig, apiService]) {
    const [namespace, name] = (owner.metadata.annotations?.['cert-manager.io/inject-ca-from'] ?? '').split('/');
    const certificate = certificates.find((c) => c.metadata.namespace === namespace && c.metadata.name === name);
    assert.ok(certificate, `${owner.kind}: inject-ca-from names a Certificate`);
    assert.ok(certificate.spec.dnsNames?.includes('outrigger-control-plane.outrigger-system.svc'), 'the certificate names the Service');
    const tls = controlPlane().spec.template.spec.volumes?.find((v) => v.secret?.secretName === certificate.spec.secretName);
    assert.ok(tls, 'the control plane mounts that certificate');
  }
  for (const certificate of certificates) {
    assert.ok(installed.some((o) => o.kind === certificate.spec.issuerRef.kind && o.metadata.name === certificate.spec.issuerRef.name), `${certificate.metadata.name}: its issuer exists`);
  }
});

test('the webhook sends a pod to the injector exactly when the injector injects it, and never in system namespaces', () => {
  const webhooks = find<K8sObject & { webhooks: Webhook[] }>('MutatingWebhookConfiguration', 'outrigger-sidecar-injector').webhooks;
  const values = [undefined, 'enabled', 'disabled'];
  for (const namespace of ['shop', 'kube-system', 'outrigger-system', 'kube-public', 'kube-node-lease']) {
    for (const nsValue of values) {
      for (const podValue of values) {
        const nsLabels: Labels = { 'kubernetes.io/metadata.name': namespace, ...(nsValue ? { 'outrigger.dev/inject': nsValue } : {}) };
        const podLabels: Labels = { app: 'x', ...(podValue ? { 'outrigger.dev/inject': podValue } : {}) };
        const called = webhooks.filter((w) => matches(w.namespaceSelector, nsLabels) && matches(w.objectSelector, podLabels)).length;
        // control-plane/injection/decision.ts: a pod's label wins, then the namespace's.
        const injects = namespace === 'shop' && (podValue === 'enabled' || (podValue === undefined && nsValue === 'enabled'));
        assert.equal(called, injects ? 1 : 0, `namespace ${namespace} (${nsValue ?? '-'}), pod (${podValue ?? '-'})`);
      }
    }
  }
});

test('the policy ConfigMap holds policies the control plane loads, and the examples point at what it serves', () => {
  const configMap = find<K8sObject & { data: Labels }>('ConfigMap', 'outrigger-policies');
  const result = loadPolicyTexts(Object.entries(configMap.data).map(([file, text]) => ({ file, text })), { requireEndpoints: false });
  assert.ok(result.ok, JSON.stringify(result));
  assert.ok(Object.values(configMap.data).some((text) => /kind: Mesh/.test(text)));

  const examples = yamlFiles('manifests/examples').flatMap(documentsOfFile).map((d) => d.doc as K8sObject);
  const hpa = examples.find((o) => o.kind === 'HorizontalPodAutoscaler') as K8sObject & { spec: { metrics: { type: string; external: { metric: { name: string; selector: LabelSelector }; target: { type: string; averageValue: string } } }[] } };
  assert.equal(hpa.apiVersion, 'autoscaling/v2');
  assert.deepEqual(hpa.spec.metrics[0]?.external, { metric: { name: 'outrigger_requests_per_second', selector: { matchLabels: { service: 'checkout' } } }, target: { type: 'AverageValue', averageValue: '100' } });
  const keda = examples.find((o) => o.kind === 'ScaledObject') as K8sObject & { spec: { triggers: { type: string; metadata: Labels }[] } };
  const trigger = keda.spec.triggers[0];
  assert.equal(trigger?.type, 'metrics-api');
  assert.equal(trigger.metadata.url, 'http://outrigger-control-plane.outrigger-system.svc:15080/autoscaling/keda/default/checkout');
  assert.deepEqual([trigger.metadata.valueLocation, trigger.metadata.targetValue], ['rps', '100']);
  assert.ok(find<Service>('Service', 'outrigger-control-plane').spec.ports.some((p) => p.port === 15080));
});

const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];

test('Dockerfile: node:24-bookworm-slim, production dependencies, the bundle built from the runtime folders, iptables, user 1337, the CLI\'s node flags', async (t) => {
  t.diagnostic('not built here: this machine has no Docker engine');
  assert.match(dockerfile, /^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
  assert.equal([...dockerfile.matchAll(/^FROM \$\{NODE_IMAGE\}/gm)].length, 3, 'three stages on the same base');
  assert.match(dockerfile, /npm ci --omit=dev/);
  assert.match(dockerfile, /apt-get install -y --no-install-recommends iptables/);
  assert.match(dockerfile, /^USER 1337:1337$/m);
  const stages = dockerfile.split(/\nFROM /);
  const bundleStage = stages.find((stage) => /^\$\{NODE_IMAGE\} AS bundle$/m.test(stage)) ?? '';
  const bundleCopies = [...bundleStage.matchAll(/^COPY (?!--from)(\S+)/gm)].map((m) => m[1]).sort();
  assert.deepEqual(bundleCopies, ['cli/', 'control-plane/', 'gossip/', 'mesh/', 'package.json', 'policy/', 'sidecar/'].sort());
  assert.match(bundleStage, /^RUN node cli\/bundle\.ts$/m);
  const runtimeStage = stages.at(-1) ?? '';
  const copied = [...runtimeStage.matchAll(/^COPY (?!--from)(\S+)/gm)].map((m) => m[1]);
  assert.deepEqual(copied, ['package.json'], 'the runtime stage holds no sources, only the bundle');
  assert.match(runtimeStage, /^COPY --from=bundle \/app\/dist \.\/dist\/$/m);
  const shebang = readFileSync(join(REPO_ROOT, 'cli/outrigger.js'), 'utf8').split('\n')[0] ?? '';
  const { SIDECAR_NODE_FLAGS } = await import('../cli/node-flags.ts');
  assert.deepEqual(entrypoint, ['node', ...SIDECAR_NODE_FLAGS, '/app/dist/outrigger.js']);
  const { CLI_IN_IMAGE } = await import('../control-plane/injection/proxy-container.ts');
  assert.equal(entrypoint.at(-1), CLI_IN_IMAGE, "the injector's postStart hook runs the image's CLI");
  for (const flag of SIDECAR_NODE_FLAGS) assert.ok(shebang.includes(flag), `the shebang has ${flag} too`);
  assert.equal(controlPlane().spec.template.spec.securityContext?.runAsUser, 1337, 'the Deployment runs as the image\'s user');
  const ignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n');
  for (const line of ['**', '**/*.test.ts', 'policy/crd']) assert.ok(ignore.includes(line), `.dockerignore: ${line}`);
});

test('the control plane starts with the Deployment\'s environment and the ConfigMap\'s policies, and answers its probes', async () => {
  const root = mkdtempSync(join(tmpdir(), 'outrigger-pod-'));
  const openssl = findOnPath('openssl');
  const c = container();
  const at = (path: string): string => join(root, path);
  const volumes = controlPlane().spec.template.spec.volumes ?? [];
  const keys = writeMeshKeys();
  const configMap = find<K8sObject & { data: Labels }>('ConfigMap', 'outrigger-policies');
  for (const mount of c.volumeMounts ?? []) {
    const dir = at(mount.mountPath);
    mkdirSync(dir, { recursive: true });
    const volume = volumes.find((v) => v.name === mount.name);
    if (volume?.configMap) for (const [file, text] of Object.entries(configMap.data)) writeFileSync(join(dir, file), text);
    if (volume?.secret?.secretName === 'outrigger-signing-key') copyFileSync(keys.signingKey, join(dir, 'signing-key.pem'));
    if (volume?.secret?.secretName === 'outrigger-gossip-key') copyFileSync(keys.gossipKey, join(dir, 'gossip.key'));
    if (volume?.secret?.secretName === 'outrigger-webhook-tls' && openssl) {
      execFileSync(openssl, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')], { stdio: 'ignore' });
    }
  }
  const [apiPort, gossipPort, nobody, securePort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const env: Labels = { PATH: process.env.PATH ?? '' };
  for (const variable of c.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value.startsWith('/') ? at(variable.value) : variable.value;
  }
  // Loopback only here: the pod's addresses, ports and the headless Service's name are stood in for.
  Object.assign(env, {
    OUTRIGGER_GOSSIP_HOST: '127.0.0.1', OUTRIGGER_API_HOST: '127.0.0.1', OUTRIGGER_ADVERTISE_HOST: '127.0.0.1',
    OUTRIGGER_JOIN: `127.0.0.1:${nobody}`, OUTRIGGER_API_PORT: String(apiPort), OUTRIGGER_GOSSIP_PORT: String(gossipPort),
    OUTRIGGER_SECURE_PORT: String(securePort),
  });
  if (!openssl) {
    delete env.OUTRIGGER_TLS_CERT;
    delete env.OUTRIGGER_TLS_KEY;
  }
  const [, ...nodeFlags] = entrypoint;
  const cli = nodeFlags.pop()?.replace(/^\/app\//, REPO_ROOT) ?? '';
  const child = spawn(process.execPath, [...nodeFlags, cli, ...(c.args ?? [])], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let logs = '';
  child.stderr.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  try {
    const deadline = Date.now() + 30_000;
    let ready = 0;
    while (Date.now() < deadline && child.exitCode === null) {
      ready = await fetch(`http://127.0.0.1:${apiPort}/readyz`).then((r) => r.status, () => 0);
      if (ready === 200) break;
      await delay(250);
    }
    assert.equal(ready, 200, `/readyz\n${logs}`);
    assert.equal((await fetch(`http://127.0.0.1:${apiPort}/healthz`)).status, 200);
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    rmSync(root, { recursive: true, force: true });
    rmSync(keys.dir, { recursive: true, force: true });
  }
});

test('webhook-cert.sh issues a certificate for the Service and writes its CA into every caBundle (kubectl stubbed)', (t) => {
  if (!findOnPath('openssl')) {
    t.skip('openssl is not installed');
    return;
  }
  const stub = mkdtempSync(join(tmpdir(), 'outrigger-kubectl-'));
  try {
    const script = [
      '#!/usr/bin/env bash',
      'echo "$*" >> "$STUB/calls"',
      'case "$*" in',
      '  *jsonpath*) printf xx ;;',
      '  "create secret"*) mkdir -p "$STUB/secret"; cp tls.crt tls.key ca.crt "$STUB/secret/"; echo "kind: Secret" ;;',
      '  "apply -f -") cat > "$STUB/applied" ;;',
      'esac',
    ].join('\n');
    writeFileSync(join(stub, 'kubectl'), `${script}\n`);
    chmodSync(join(stub, 'kubectl'), 0o755);
    const run = spawnSync('bash', [join(REPO_ROOT, 'manifests/webhook-cert.sh'), '--days', '30'], {
      env: { ...process.env, PATH: `${stub}:${process.env.PATH ?? ''}`, STUB: stub },
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const cert = new X509Certificate(readFileSync(join(stub, 'secret/tls.crt')));
    const ca = new X509Certificate(readFileSync(join(stub, 'secret/ca.crt')));
    assert.ok(cert.verify(ca.publicKey), 'signed by the CA');
    assert.equal(cert.checkHost('outrigger-control-plane.outrigger-system.svc'), 'outrigger-control-plane.outrigger-system.svc');
    assert.ok(ca.ca && !cert.ca);
    const calls = readFileSync(join(stub, 'calls'), 'utf8').split('\n');
    assert.ok(calls.some((c) => c.startsWith('create secret generic outrigger-webhook-tls --namespace outrigger-system --type kubernetes.io/tls')));
    const caBundle = readFileSync(join(stub, 'secret/ca.crt')).toString('base64');
    const patch = calls.find((c) => c.startsWith('patch mutatingwebhookconfiguration outrigger-sidecar-injector'));
    const ops = JSON.parse(patch?.slice(patch.indexOf('[')) ?? '[]') as { path: string; value: string }[];
    assert.deepEqual(ops.map((o) => [o.path, o.value === caBundle]), [['/webhooks/0/clientConfig/caBundle', true], ['/webhooks/1/clientConfig/caBundle', true]]);
    assert.ok(calls.some((c) => c.startsWith('patch apiservice v1beta1.external.metrics.k8s.io') && c.includes(caBundle)));
    assert.ok(calls.some((c) => c.startsWith('rollout restart deployment/outrigger-control-plane')));
    assert.equal(readFileSync(join(stub, 'applied'), 'utf8').trim(), 'kind: Secret');
  } finally {
    rmSync(stub, { recursive: true, force: true });
  }
});

function matches(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = key in labels;
    const ok = operator === 'In' ? has && values.includes(labels[key] ?? '')
      : operator === 'NotIn' ? !has || !values.includes(labels[key] ?? '')
        : operator === 'Exists' ? has
          : operator === 'DoesNotExist' ? !has
            : assert.fail(`unknown operator ${operator}`);
    if (!ok) return false;
  }
  return true;
}
