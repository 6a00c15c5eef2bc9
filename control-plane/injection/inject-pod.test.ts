import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { resolveInjectorConfig, type InjectorConfigOverrides } from './config.ts';
import { injectPod, type InjectionResult } from './inject-pod.ts';
import type { Container, EnvVar, Pod } from './k8s-types.ts';
import { applyJsonPatch } from './testdata/json-patch-apply.ts';

const ENABLED = { 'outrigger.dev/inject': 'enabled' };

function pod(overrides: { annotations?: Record<string, string>; labels?: Record<string, string>; containers?: Container[]; initContainers?: Container[]; spec?: Record<string, unknown> } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'catalog-7d9f8b6c4d-',
      namespace: 'shop',
      labels: { app: 'catalog', 'pod-template-hash': '7d9f8b6c4d', ...overrides.labels },
      ...(overrides.annotations ? { annotations: overrides.annotations } : {}),
    },
    spec: {
      containers: overrides.containers ?? [{ name: 'app', image: 'catalog:1', ports: [{ containerPort: 8080 }] }],
      ...(overrides.initContainers ? { initContainers: overrides.initContainers } : {}),
      ...overrides.spec,
    },
  };
}

function inject(p: Pod, overrides: InjectorConfigOverrides = {}, namespaceLabels: Record<string, string> | undefined = ENABLED): InjectionResult {
  return injectPod(p, { namespace: p.metadata?.namespace, namespaceLabels }, resolveInjectorConfig(overrides));
}

function proxyOf(result: InjectionResult): Container {
  const proxy = [...(result.pod.spec.initContainers ?? []), ...result.pod.spec.containers].find((c) => c.name === 'outrigger-proxy');
  assert.ok(proxy, 'proxy container present');
  return proxy;
}

function envOf(container: Container): Record<string, string | undefined> {
  return Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? `fieldRef:${e.valueFrom?.fieldRef?.fieldPath ?? '?'}`]));
}

describe('injectPod: the proxy container', () => {
  it('is a native sidecar right after the iptables init container, fully configured by environment', () => {
    const result = inject(pod({ initContainers: [{ name: 'migrate', image: 'catalog:1' }] }));
    assert.equal(result.injected, true);
    assert.deepEqual(result.pod.spec.initContainers?.map((c) => c.name), ['outrigger-init', 'outrigger-proxy', 'migrate']);
    const proxy = proxyOf(result);
    assert.equal(proxy.restartPolicy, 'Always');
    assert.equal(proxy.image, 'ghcr.io/outrigger-mesh/outrigger:0.1.0');
    assert.deepEqual(proxy.args, ['sidecar']);
    assert.deepEqual(envOf(proxy), {
      OUTRIGGER_SERVICE: 'catalog',
      OUTRIGGER_NAMESPACE: 'fieldRef:metadata.namespace',
      OUTRIGGER_APP: '127.0.0.1:8080',
      OUTRIGGER_INBOUND: '15006',
      OUTRIGGER_OUTBOUND: '15001',
      OUTRIGGER_ADMIN: '15000',
      OUTRIGGER_HEALTH_PORT: '15021',
      OUTRIGGER_INBOUND_HOST: '0.0.0.0',
      OUTRIGGER_JOIN: 'outrigger-gossip.outrigger-system.svc.cluster.local:7946',
      OUTRIGGER_GOSSIP_HOST: '0.0.0.0',
      OUTRIGGER_ADVERTISE_HOST: 'fieldRef:status.podIP',
      OUTRIGGER_NAME: 'fieldRef:metadata.name',
      OUTRIGGER_MESH_KEY: '/etc/outrigger/mesh/signing-key.pub.pem',
      OUTRIGGER_GOSSIP_KEY: '/etc/outrigger/gossip/gossip.key',
      OUTRIGGER_STATE_DIR: '/var/run/outrigger',
      OUTRIGGER_DRAIN_SECONDS: '5',
    });
    assert.deepEqual(proxy.resources, { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } });
    assert.deepEqual(proxy.securityContext, {
      runAsUser: 1337,
      runAsGroup: 1337,
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.equal(proxy.lifecycle, undefined, 'a native sidecar is held back by its startup probe, not by a hook');
    assert.deepEqual([proxy.startupProbe?.httpGet, proxy.readinessProbe?.httpGet, proxy.livenessProbe?.httpGet], [
      { path: '/ready', port: 15021 },
      { path: '/ready', port: 15021 },
      { path: '/live', port: 15021 },
    ]);
    assert.deepEqual(result.pod.spec.volumes, [
      { name: 'outrigger-mesh-key', secret: { secretName: 'outrigger-mesh-key' } },
      { name: 'outrigger-gossip-key', secret: { secretName: 'outrigger-gossip-key' } },
      { name: 'outrigger-state', emptyDir: {} },
    ]);
    assert.deepEqual(proxy.volumeMounts?.map((m) => [m.name, m.mountPath, m.readOnly ?? false]), [
      ['outrigger-mesh-key', '/etc/outrigger/mesh', true],
      ['outrigger-gossip-key', '/etc/outrigger/gossip', true],
      ['outrigger-state', '/var/run/outrigger', false],
    ]);
    const status = JSON.parse(result.pod.metadata?.annotations?.['outrigger.dev/status'] ?? '{}') as Record<string, unknown>;
    assert.deepEqual(status, {
      version: 1,
      image: 'ghcr.io/outrigger-mesh/outrigger:0.1.0',
      sidecarMode: 'native',
      capture: 'iptables',
      initContainers: ['outrigger-init', 'outrigger-proxy'],
      containers: [],
      volumes: ['outrigger-mesh-key', 'outrigger-gossip-key', 'outrigger-state'],
      env: [],
    });
  });

  it('container mode: a regular container placed first, without restartPolicy, and says what that costs', () => {
    const result = inject(pod({ initContainers: [{ name: 'migrate', image: 'x' }], spec: { restartPolicy: 'Never' } }), { sidecarMode: 'container' });
    assert.deepEqual(result.pod.spec.initContainers?.map((c) => c.name), ['outrigger-init', 'migrate']);
    assert.deepEqual(result.pod.spec.containers.map((c) => c.name), ['outrigger-proxy', 'app']);
    assert.equal(proxyOf(result).restartPolicy, undefined);
    // The app's containers are held until the proxy is ready: the kubelet waits for the proxy's postStart hook.
    assert.deepEqual(proxyOf(result).lifecycle?.postStart?.exec.command, ['node', '/app/dist/outrigger.js', 'wait-ready', '--url', 'http://127.0.0.1:15000/ready', '--timeout', '120']);
    assert.equal(result.notes.length, 2);
    assert.match(result.notes[0] ?? '', /init containers run before the proxy/);
    assert.match(result.notes[1] ?? '', /restartPolicy Never.*use native mode for Jobs/);
  });

  it('native + explicit: only the proxy as init container; config values flow through', () => {
    const result = inject(pod(), { captureMode: 'explicit', image: 'example.com/o:dev', imagePullPolicy: 'Always', join: 'cp.mesh.svc:7000', meshKeySecret: 'mk', gossipKeySecret: 'gk' });
    assert.deepEqual(result.pod.spec.initContainers?.map((c) => c.name), ['outrigger-proxy']);
    const proxy = proxyOf(result);
    assert.equal(proxy.image, 'example.com/o:dev');
    assert.equal(proxy.imagePullPolicy, 'Always');
    assert.equal(envOf(proxy).OUTRIGGER_JOIN, 'cp.mesh.svc:7000');
    assert.deepEqual(result.pod.spec.volumes?.slice(0, 2).map((v) => (v.secret as { secretName: string }).secretName), ['mk', 'gk']);
  });

  it('takes Service, port, zone, resources and drain time from annotations', () => {
    const result = inject(pod({
      annotations: {
        'outrigger.dev/service': 'catalog-api',
        'outrigger.dev/app-port': '9000',
        'outrigger.dev/zone': 'eu-west-1a',
        'outrigger.dev/proxy-cpu': '200m',
        'outrigger.dev/proxy-memory': '128Mi',
        'outrigger.dev/proxy-cpu-limit': '1',
        'outrigger.dev/proxy-memory-limit': '1Gi',
        'outrigger.dev/drain-seconds': '15',
      },
    }));
    const proxy = proxyOf(result);
    const env = envOf(proxy);
    assert.equal(env.OUTRIGGER_SERVICE, 'catalog-api');
    assert.equal(env.OUTRIGGER_APP, '127.0.0.1:9000');
    assert.equal(env.OUTRIGGER_ZONE, 'eu-west-1a');
    assert.equal(env.OUTRIGGER_DRAIN_SECONDS, '15');
    assert.deepEqual(proxy.resources, { requests: { cpu: '200m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } });
    assert.deepEqual(result.notes, []);
  });

  it('drain time never exceeds terminationGracePeriodSeconds', () => {
    const result = inject(pod({ annotations: { 'outrigger.dev/drain-seconds': '45' } }));
    assert.equal(envOf(proxyOf(result)).OUTRIGGER_DRAIN_SECONDS, '30');
    assert.deepEqual(result.notes, ['drain time 45s cut to the pod\'s terminationGracePeriodSeconds (30s)']);
    const short = inject(pod({ spec: { terminationGracePeriodSeconds: 3 } }));
    assert.equal(envOf(proxyOf(short)).OUTRIGGER_DRAIN_SECONDS, '3');
  });

  it('finds the Service name: annotation, app.kubernetes.io/name, app, generateName, owner, pod name', () => {
    const name = (p: Pod, workloadName?: string): string | undefined => {
      const result = injectPod(p, { namespaceLabels: undefined, workloadName }, resolveInjectorConfig());
      return result.injected ? envOf(proxyOf(result)).OUTRIGGER_SERVICE : result.decision.reason;
    };
    const base = (metadata: NonNullable<Pod['metadata']>): Pod => ({ metadata, spec: { containers: [{ name: 'a', ports: [{ containerPort: 80 }] }] } });
    assert.equal(name(base({ labels: { 'app.kubernetes.io/name': 'one', app: 'two' } })), 'one');
    assert.equal(name(base({ labels: { app: 'two' } })), 'two');
    assert.equal(name(base({ generateName: 'catalog-7d9f8b6c4d-', labels: { 'pod-template-hash': '7d9f8b6c4d' } })), 'catalog');
    assert.equal(name(base({ generateName: 'fluentd-' })), 'fluentd');
    assert.equal(name(base({ generateName: 'nightly-29000000-', ownerReferences: [{ kind: 'Job', name: 'nightly-29000000', controller: true }] })), 'nightly');
    assert.equal(name(base({ name: 'web-0', ownerReferences: [{ kind: 'StatefulSet', name: 'web', controller: true }] })), 'web');
    assert.equal(name(base({}), 'from-file'), 'from-file');
    assert.equal(name(base({ name: 'debug' })), 'debug');
    assert.match(name(base({})) ?? '', /cannot tell the Service name/);
    assert.match(name(base({ annotations: { 'outrigger.dev/service': 'Not_A_Name' } })) ?? '', /is not a Service name/);
  });

  it('finds the app port: annotation, else the first TCP containerPort of the first container', () => {
    const port = (containers: Container[], annotations?: Record<string, string>): string => {
      const result = inject(pod({ containers, ...(annotations ? { annotations } : {}) }));
      return result.injected ? (envOf(proxyOf(result)).OUTRIGGER_APP ?? '') : `${result.decision.code}: ${result.decision.reason}`;
    };
    assert.equal(port([{ name: 'a', ports: [{ containerPort: 53, protocol: 'UDP' }, { containerPort: 8080, protocol: 'TCP' }] }]), '127.0.0.1:8080');
    assert.equal(port([{ name: 'a' }, { name: 'b', ports: [{ containerPort: 80 }] }], { 'outrigger.dev/app-port': '3000' }), '127.0.0.1:3000');
    assert.match(port([{ name: 'a' }, { name: 'b', ports: [{ containerPort: 80 }] }]), /^no-app-port: no app port: container a declares no TCP containerPort; set annotation outrigger\.dev\/app-port$/);
    assert.match(port([{ name: 'a', ports: [{ containerPort: 15001 }] }]), /^conflict: app port 15001 .* one of the proxy's ports/);
    assert.match(port([{ name: 'a' }], { 'outrigger.dev/app-port': 'http' }), /^invalid-annotation: annotation outrigger\.dev\/app-port="http" is not a port number/);
  });

  it('refuses bad annotation values with the reason instead of guessing', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'outrigger.dev/capture': 'ebpf' }, /outrigger\.dev\/capture="ebpf" must be "iptables" or "explicit"/],
      [{ 'outrigger.dev/proxy-memory': 'lots' }, /proxy-memory="lots" is not a Kubernetes quantity/],
      [{ 'outrigger.dev/proxy-memory': '512Mi', 'outrigger.dev/proxy-memory-limit': '256Mi' }, /proxy memory request 512Mi is above its limit 256Mi/],
      [{ 'outrigger.dev/drain-seconds': '5s' }, /drain-seconds="5s" is not a whole number/],
      [{ 'outrigger.dev/exclude-outbound-ports': '5432;reboot' }, /exclude-outbound-ports: "5432;reboot" is not a port/],
      [{ 'outrigger.dev/exclude-outbound-cidrs': '10.0.0.0/33' }, /exclude-outbound-cidrs: "10\.0\.0\.0\/33" is not an IPv4/],
    ];
    for (const [annotations, reason] of cases) {
      const result = inject(pod({ annotations }));
      assert.equal(result.injected, false, JSON.stringify(annotations));
      assert.match(result.decision.reason, reason);
      assert.deepEqual(result.patch, []);
    }
  });

  it('refuses a pod that already has a volume with one of its names', () => {
    const result = inject(pod({ spec: { volumes: [{ name: 'outrigger-state', emptyDir: {} }] } }));
    assert.equal(result.decision.code, 'conflict');
    assert.match(result.decision.reason, /already has a volume named outrigger-state/);
  });
});

describe('injectPod: explicit capture', () => {
  it('sets HTTP_PROXY and NO_PROXY on every app container, never on the proxy', () => {
    const result = inject(pod({ annotations: { 'outrigger.dev/capture': 'explicit' }, containers: [{ name: 'app', ports: [{ containerPort: 8080 }] }, { name: 'side', env: [{ name: 'A', value: '1' }] }] }));
    assert.equal(result.injected, true);
    assert.equal(result.pod.spec.initContainers?.some((c) => c.name === 'outrigger-init'), false, 'no iptables init container');
    for (const c of result.pod.spec.containers) {
      assert.equal(envOf(c).HTTP_PROXY, 'http://127.0.0.1:15001', c.name);
      assert.equal(envOf(c).NO_PROXY, '127.0.0.1,localhost', c.name);
    }
    assert.equal(envOf(proxyOf(result)).HTTP_PROXY, undefined);
    assert.deepEqual(result.pod.spec.containers[1]?.env?.[0], { name: 'A', value: '1' });
    const ops = result.patch.map((op) => `${op.op} ${op.path}`);
    assert.ok(ops.includes('add /spec/containers/0/env'), 'a container without env gets the whole array');
    assert.ok(ops.includes('add /spec/containers/1/env/-'), 'a container with env gets entries appended');
  });

  it('appends to an existing NO_PROXY, keeps an existing HTTP_PROXY or valueFrom, and says so', () => {
    const env: EnvVar[] = [
      { name: 'NO_PROXY', value: 'internal.example.com,localhost' },
      { name: 'HTTP_PROXY', value: 'http://squid:3128' },
    ];
    const fromSecret: EnvVar[] = [{ name: 'NO_PROXY', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }];
    const result = inject(pod({ containers: [{ name: 'app', ports: [{ containerPort: 8080 }], env }, { name: 'b', env: fromSecret }] }), { captureMode: 'explicit', sidecarMode: 'container' });
    const [proxy, app, b] = result.pod.spec.containers;
    assert.equal(proxy?.name, 'outrigger-proxy');
    assert.deepEqual(app?.env, [
      { name: 'NO_PROXY', value: 'internal.example.com,localhost,127.0.0.1' },
      { name: 'HTTP_PROXY', value: 'http://squid:3128' },
    ]);
    assert.deepEqual(b?.env, [...fromSecret, { name: 'HTTP_PROXY', value: 'http://127.0.0.1:15001' }]);
    assert.deepEqual(result.notes, [
      'container app: HTTP_PROXY is already "http://squid:3128", left as is, so its calls do not go through the proxy',
      'container app: appended 127.0.0.1 to its NO_PROXY',
      'container b: NO_PROXY comes from valueFrom, left as is (outrigger wants 127.0.0.1,localhost)',
    ]);
    assert.deepEqual(JSON.parse(result.pod.metadata?.annotations?.['outrigger.dev/status'] ?? '{}').env, ['HTTP_PROXY', 'NO_PROXY']);
  });

  it('ignores capture exclusions in explicit mode, with a note', () => {
    const result = inject(pod({ annotations: { 'outrigger.dev/capture': 'explicit', 'outrigger.dev/exclude-outbound-ports': '5432' } }));
    assert.deepEqual(result.notes, ['outrigger.dev/exclude-outbound-ports ignored: nothing is captured in explicit mode']);
  });
});

describe('injectPod: the JSON Patch', () => {
  it('escapes annotation keys and adds missing arrays and maps whole', () => {
    const bare: Pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', ports: [{ containerPort: 80 }] }] } };
    const result = injectPod(bare, { namespaceLabels: ENABLED }, resolveInjectorConfig());
    assert.deepEqual(result.patch.map((op) => `${op.op} ${op.path}`), [
      'add /spec/initContainers',
      'add /spec/initContainers/1',
      'add /spec/volumes',
      'add /spec/volumes/-',
      'add /spec/volumes/-',
      'add /metadata/annotations',
    ]);
    const withAnnotations = injectPod({ ...bare, metadata: { annotations: { 'a/b~c': 'x' } } }, { namespaceLabels: ENABLED, workloadName: 'w' }, resolveInjectorConfig());
    assert.equal(withAnnotations.patch.at(-1)?.path, '/metadata/annotations/outrigger.dev~1status');
    const noMetadata = injectPod({ spec: bare.spec }, { namespaceLabels: ENABLED, workloadName: 'w' }, resolveInjectorConfig());
    assert.deepEqual(noMetadata.patch.at(-1), { op: 'add', path: '/metadata', value: { annotations: { 'outrigger.dev/status': noMetadata.pod.metadata?.annotations?.['outrigger.dev/status'] } } });
  });

  it('applied to the original gives exactly the mutated pod, leaves the input alone, and a second pass changes nothing (property)', () => {
    const name = fc.constantFrom('app', 'web', 'worker', 'log', 'x');
    const envVar = fc.oneof(
      fc.record({ name: fc.constantFrom('HTTP_PROXY', 'NO_PROXY', 'A', 'B'), value: fc.constantFrom('', 'x', 'http://p:1', 'a,localhost') }),
      fc.record({ name: fc.constantFrom('NO_PROXY', 'C'), valueFrom: fc.constant({ fieldRef: { fieldPath: 'metadata.name' } }) }),
    );
    const container = fc.record(
      {
        name,
        image: fc.constant('img'),
        ports: fc.array(fc.record({ containerPort: fc.integer({ min: 1, max: 65535 }), protocol: fc.constantFrom('TCP', 'TCP', 'UDP') }), { minLength: 1, maxLength: 2 }),
        env: fc.array(envVar, { maxLength: 4 }),
      },
      { requiredKeys: ['name', 'image'] },
    );
    const unique = (list: Container[]): Container[] => list.filter((c, i) => list.findIndex((o) => o.name === c.name) === i);
    const annotationValue = fc.record(
      {
        'outrigger.dev/inject': fc.constantFrom('enabled', 'enabled', 'enabled', 'disabled'),
        'outrigger.dev/capture': fc.constantFrom('iptables', 'explicit'),
        'outrigger.dev/app-port': fc.constantFrom('8080', '8080', '9090', '9090', '15006', 'nope'),
        'outrigger.dev/exclude-outbound-ports': fc.constantFrom('5432', '1-100, 8080'),
        'outrigger.dev/exclude-outbound-cidrs': fc.constantFrom('10.0.0.0/8', '1.2.3.4'),
        'outrigger.dev/drain-seconds': fc.constantFrom('0', '99'),
        'outrigger.dev/proxy-memory': fc.constantFrom('32Mi', '1Gi'),
        'other.io/key': fc.constant('v'),
      },
      { requiredKeys: [] },
    );
    const podArb = fc.record(
      {
        metadata: fc.record({ name: fc.constantFrom('p-0', ''), labels: fc.constant({ app: 'a' }), annotations: annotationValue }, { requiredKeys: [] }),
        spec: fc.record(
          {
            containers: fc.array(container, { minLength: 1, maxLength: 3 }).map(unique),
            initContainers: fc.array(container, { maxLength: 2 }).map((list) => unique(list).map((c) => ({ ...c, name: `init-${c.name}` }))),
            volumes: fc.array(fc.record({ name: fc.constantFrom('data', 'cfg'), emptyDir: fc.constant({}) }), { maxLength: 2 }).map((v) => v.filter((x, i) => v.findIndex((o) => o.name === x.name) === i)),
            terminationGracePeriodSeconds: fc.integer({ min: 0, max: 60 }),
            hostNetwork: fc.constantFrom(false, false, false, true),
          },
          { requiredKeys: ['containers'] },
        ),
      },
      { requiredKeys: ['spec'] },
    );
    const configArb = fc.record({ sidecarMode: fc.constantFrom('native' as const, 'container' as const), captureMode: fc.constantFrom('iptables' as const, 'explicit' as const) });
    const labelsArb = fc.option(fc.constantFrom({}, ENABLED, { 'outrigger.dev/inject': 'disabled' }), { nil: undefined });
    let injected = 0;
    fc.assert(
      fc.property(podArb, configArb, labelsArb, (original, overrides, namespaceLabels) => {
        const input = JSON.parse(JSON.stringify(original)) as Pod; // plain JSON, as pods arrive
        const before = structuredClone(input);
        const config = resolveInjectorConfig(overrides);
        const result = injectPod(input, { namespace: 'ns', namespaceLabels }, config);
        assert.deepEqual(input, before, 'the input is not mutated');
        assert.deepEqual(applyJsonPatch(input, result.patch), result.pod);
        if (!result.injected) {
          assert.deepEqual(result.patch, []);
          assert.deepEqual(result.pod, input);
          return;
        }
        injected++;
        const again = injectPod(result.pod, { namespace: 'ns', namespaceLabels }, config);
        assert.equal(again.injected, false);
        assert.equal(again.decision.code, 'already-injected');
        assert.deepEqual(again.patch, []);
        assert.deepEqual(again.pod, result.pod);
      }),
      { numRuns: 400, seed: 20261127 },
    );
    assert.ok(injected > 100, `the property exercised injection (${injected} of 400)`);
  });
});
