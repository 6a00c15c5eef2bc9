import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { resolveInjectorConfig } from '../control-plane/injection/config.ts';
import { injectYamlStream } from '../control-plane/injection/yaml-stream.ts';
import { unknownFieldProblems, validateOfficial, type TypedDocument } from '../policy/crd/official-schemas.ts';

/** Real-world shapes: probes, init containers, volumes, security contexts, a CronJob, a StatefulSet with claims. */
const WORKLOADS = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop, labels: { app: web } }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  strategy: { type: RollingUpdate, rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }
  template:
    metadata: { labels: { app: web, app.kubernetes.io/name: web }, annotations: { prometheus.io/scrape: "true" } }
    spec:
      serviceAccountName: web
      securityContext: { runAsNonRoot: true, fsGroup: 2000 }
      initContainers:
        - { name: migrate, image: "example/web:1.4.2", command: [./migrate], envFrom: [{ secretRef: { name: db } }] }
      containers:
        - name: web
          image: example/web:1.4.2
          ports: [{ name: http, containerPort: 8080 }, { name: metrics, containerPort: 9090 }]
          env: [{ name: HTTP_PROXY, value: "" }]
          readinessProbe: { httpGet: { path: /healthz, port: http }, periodSeconds: 5 }
          livenessProbe: { tcpSocket: { port: 8080 } }
          resources: { requests: { cpu: 100m, memory: 128Mi }, limits: { memory: 256Mi } }
          volumeMounts: [{ name: cache, mountPath: /cache }]
        - { name: log-shipper, image: "fluent/fluent-bit:3.0", resources: { limits: { memory: 64Mi } } }
      volumes: [{ name: cache, emptyDir: {} }]
      topologySpreadConstraints:
        - { maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: { matchLabels: { app: web } } }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db, namespace: shop }
spec:
  serviceName: db
  replicas: 2
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db }, annotations: { outrigger.dev/capture: explicit } }
    spec:
      containers:
        - { name: db, image: "postgres:17", ports: [{ containerPort: 5432 }], volumeMounts: [{ name: data, mountPath: /var/lib/postgresql/data }] }
  volumeClaimTemplates:
    - metadata: { name: data }
      spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: report, namespace: shop }
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        metadata: { annotations: { outrigger.dev/app-port: "8081" } }
        spec:
          restartPolicy: OnFailure
          containers: [{ name: report, image: "example/report:2" }]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent, namespace: shop }
spec:
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec:
      containers: [{ name: agent, image: "example/agent:1", ports: [{ containerPort: 7000 }] }]
`;

for (const [label, sidecarMode, captureMode] of [
  ['native sidecars, iptables capture', 'native', 'iptables'],
  ['regular containers, explicit capture', 'container', 'explicit'],
] as const) {
  test(`injected real-world workloads still validate against the official Kubernetes schemas (${label})`, async () => {
    const sources = [WORKLOADS, readFileSync(new URL('../examples/kubernetes/demo-apps.yaml', import.meta.url), 'utf8')];
    let injected = 0;
    const typed: TypedDocument[] = [];
    for (const source of sources) {
      const result = injectYamlStream(source, resolveInjectorConfig({ sidecarMode, captureMode }));
      assert.ok(result.ok, result.ok ? '' : result.message);
      for (const doc of parseAllDocuments(result.output)) {
        const object = doc.toJS() as { apiVersion: string; kind: string; metadata: { name: string } };
        const checked = await validateOfficial(object);
        assert.ok(checked.validated, `${object.kind} has an official schema`);
        if (checked.validated) assert.deepEqual(checked.problems, [], `${object.kind}/${object.metadata.name}`);
        if (JSON.stringify(object).includes('outrigger-proxy')) injected++;
        typed.push({ where: `${object.kind}/${object.metadata.name}`, doc: object });
      }
    }
    // Unknown fields too (the validators alone let them through): type-checked against the generated interfaces.
    assert.deepEqual(unknownFieldProblems(typed), []);
    assert.ok(injected >= 6, `${injected} workloads injected`);
  });
}
