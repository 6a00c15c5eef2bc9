import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getJson, send } from './support/client.ts';
import { findOnPath } from './support/local-tools.ts';
import { startControlPlaneProcess, startMeshSidecarProcess, writeMeshKeys, type ControlPlaneProcess } from './support/mesh-processes.ts';
import type { SidecarProcess } from './support/sidecar-process.ts';
import { echo, startUpstream, type TestUpstream } from './support/upstream.ts';

const SIGNAL = `apiVersion: outrigger.dev/v1alpha1
kind: AutoscalingSignal
metadata:
  name: checkout
  namespace: default
spec:
  targetRef:
    kind: Service
    name: checkout
  metrics:
    - name: requests_per_second
      window: panic
      target:
        averageValue: 5
`;

function httpsJson(port: number, path: string, ca: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { host: '127.0.0.1', port, path, method: payload ? 'POST' : 'GET', ca, servername: 'localhost', headers: payload ? { 'content-type': 'application/json' } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as unknown }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const openssl = findOnPath('openssl');

describe('the control plane as Kubernetes sees it: injection webhook and autoscaling signals over HTTPS', { skip: openssl ? false : 'openssl is not installed' }, () => {
  let controlPlane: ControlPlaneProcess;
  const sidecars: SidecarProcess[] = [];
  const apps: TestUpstream[] = [];
  let ca: string;
  let securePort: number;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outrigger-tls-'));
    execFileSync(openssl as string, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')], { stdio: 'ignore' });
    ca = readFileSync(join(dir, 'tls.crt'), 'utf8');
    const policies = mkdtempSync(join(tmpdir(), 'outrigger-k8s-policy-'));
    writeFileSync(join(policies, 'checkout-autoscaling.yaml'), SIGNAL);
    const keys = writeMeshKeys();
    controlPlane = await startControlPlaneProcess({ config: policies, keys, name: 'cp', extraArgs: ['--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--secure-port', '0'] });
    securePort = controlPlane.securePort ?? 0;
    for (const [i, service] of ['checkout', 'checkout', 'frontend'].entries()) {
      const app = await startUpstream(echo, `${service}-${i}`);
      apps.push(app);
      sidecars.push(await startMeshSidecarProcess({ service, app: app.address, keys, join: [controlPlane.gossipAddress], name: `${service}-${i}` }));
    }
  });

  after(async () => {
    await Promise.all(sidecars.map((s) => s.stop()));
    await controlPlane?.stop();
    await Promise.all(apps.map((a) => a.close()));
  });

  it('answers an AdmissionReview for an opted-in namespace with a JSON patch, and leaves a non-opted pod alone', async () => {
    const review = JSON.parse(readFileSync(new URL('../control-plane/injection/testdata/admission/deployment-pod.json', import.meta.url), 'utf8')) as { request: { uid: string } };
    const namespaced = await httpsJson(securePort, '/inject/namespace', ca, review);
    assert.equal(namespaced.status, 200);
    const response = (namespaced.body as { apiVersion: string; response: { uid: string; allowed: boolean; patchType?: string; patch?: string } });
    assert.equal(response.apiVersion, 'admission.k8s.io/v1');
    assert.equal(response.response.uid, review.request.uid);
    assert.equal(response.response.allowed, true);
    assert.equal(response.response.patchType, 'JSONPatch');
    const patch = JSON.parse(Buffer.from(response.response.patch ?? '', 'base64').toString()) as { op: string; path: string }[];
    assert.ok(patch.some((op) => op.path.startsWith('/spec/initContainers')), 'the proxy and capture init containers are added');

    // The pod opt-in entry (/inject) is called for namespaces that did not opt in: a pod without the label stays as is.
    const unlabelled = structuredClone(review) as unknown as { request: { object: { metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } } } };
    delete unlabelled.request.object.metadata.labels?.['outrigger.dev/inject'];
    delete unlabelled.request.object.metadata.annotations?.['outrigger.dev/inject'];
    const podEntry = await httpsJson(securePort, '/inject', ca, unlabelled);
    const untouched = (podEntry.body as { response: { allowed: boolean; patch?: string } }).response;
    assert.equal(untouched.allowed, true);
    assert.equal(untouched.patch, undefined);
  });

  it('reports the request rate the sidecars saw, as external metrics, KEDA JSON and an HPA recommendation', async () => {
    const frontend = sidecars[2] as SidecarProcess;
    // Wait until the frontend has discovered both checkout replicas.
    const deadline = Date.now() + 10_000;
    while ((await send(frontend.outboundPort, { headers: { host: 'checkout' } })).status !== 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // A paced load of 40 requests/s for 7 s: the 6 s panic window then holds about 240 requests.
    const rate = 40;
    const started = Date.now();
    let sent = 0;
    while (Date.now() - started < 7_000) {
      const due = Math.floor(((Date.now() - started) / 1000) * rate);
      const batch: Promise<unknown>[] = [];
      for (; sent < due; sent++) batch.push(send(frontend.outboundPort, { headers: { host: 'checkout' } }).then((r) => assert.equal(r.status, 200)));
      await Promise.all(batch);
      await new Promise((r) => setTimeout(r, 20));
    }
    // Reports arrive every 2 s.
    await new Promise((r) => setTimeout(r, 2_500));
    const keda = await getJson<{ rps: number; replicas: number; window: string }>(controlPlane.apiPort, '/autoscaling/keda/default/checkout?window=panic');
    assert.equal(keda.status, 200);
    assert.equal(keda.body.replicas, 2);
    assert.ok(keda.body.rps > rate * 0.5 && keda.body.rps < rate * 1.3, `panic-window rate ${keda.body.rps} req/s for ${rate} sent (the window also covers the 2.5 s wait)`);

    const external = await httpsJson(securePort, `/apis/external.metrics.k8s.io/v1beta1/namespaces/default/outrigger_requests_per_second?labelSelector=${encodeURIComponent('service=checkout,window=panic')}`, ca);
    assert.equal(external.status, 200);
    const list = external.body as { kind: string; apiVersion: string; items: { metricName: string; metricLabels: Record<string, string>; timestamp: string; window: number; value: string }[] };
    assert.equal(list.kind, 'ExternalMetricValueList');
    assert.equal(list.apiVersion, 'external.metrics.k8s.io/v1beta1');
    const item = list.items[0];
    assert.ok(item);
    assert.equal(item.metricName, 'outrigger_requests_per_second');
    assert.equal(item.metricLabels.service, 'checkout');
    assert.equal(item.window, 6);
    assert.match(item.value, /^\d+(m)?$/);
    assert.ok(!Number.isNaN(Date.parse(item.timestamp)));

    const recommendations = await getJson<{ items: { service: string; currentReplicas: number; recommendedReplicas: number | null; metrics: { value: number }[] }[] }>(controlPlane.apiPort, '/autoscaling/recommendations');
    const checkout = recommendations.body.items.find((r) => r.service === 'checkout.default');
    assert.ok(checkout);
    assert.equal(checkout.currentReplicas, 2);
    const value = checkout.metrics[0]?.value ?? 0;
    assert.equal(checkout.recommendedReplicas, Math.ceil(value / 5), 'ceil(current × (value / current) / target) for an averageValue target');
    assert.ok((checkout.recommendedReplicas ?? 0) > 2, 'a rate far above 5 per replica asks for more replicas');
    console.log(`# ${sent} requests at ${rate}/s: panic-window rate ${keda.body.rps} req/s over ${keda.body.replicas} replicas → HPA would choose ${checkout.recommendedReplicas}`);

    const metrics = await send(controlPlane.apiPort, { path: '/metrics' });
    assert.match(metrics.body, /outrigger_autoscaling_recommended_replicas\{service="checkout.default"\} \d+/);
  });

  it('serves the aggregation layer its discovery documents', async () => {
    const resources = await httpsJson(securePort, '/apis/external.metrics.k8s.io/v1beta1', ca);
    assert.equal(resources.status, 200);
    assert.equal((resources.body as { kind: string }).kind, 'APIResourceList');
  });
});
