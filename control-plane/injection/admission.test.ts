import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ADMISSION_API_VERSION, handleAdmissionReview, reviewAdmission, type AdmissionReviewReply } from './admission.ts';
import { resolveInjectorConfig } from './config.ts';
import { injectPod } from './inject-pod.ts';
import type { Labels, Pod } from './k8s-types.ts';
import { applyJsonPatch, type Operation } from './testdata/json-patch-apply.ts';

const FIXTURES = join(import.meta.dirname, 'testdata', 'admission');
const GOLDEN = join(import.meta.dirname, 'testdata', 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const NAMESPACES = new Map<string, Labels>([
  ['shop', { 'kubernetes.io/metadata.name': 'shop', 'outrigger.dev/inject': 'enabled' }],
  ['batch', { 'kubernetes.io/metadata.name': 'batch', 'outrigger.dev/inject': 'enabled' }],
  ['payments', { 'kubernetes.io/metadata.name': 'payments' }],
  ['kube-system', { 'kubernetes.io/metadata.name': 'kube-system' }],
]);
const config = resolveInjectorConfig();

interface Review {
  apiVersion: string;
  kind: string;
  request: { uid: string; namespace: string; dryRun?: boolean; object: Pod; [key: string]: unknown };
}

function fixture(name: string): Review {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Review;
}

function decodePatch(reply: AdmissionReviewReply): Operation[] | undefined {
  return reply.response.patch === undefined ? undefined : (JSON.parse(Buffer.from(reply.response.patch, 'base64').toString('utf8')) as Operation[]);
}

/** The golden record of one fixture: the decision and the patch, decoded. */
function goldenOf(review: Review): unknown {
  const { reply, outcome } = reviewAdmission(review, config, NAMESPACES);
  return {
    uid: reply.response.uid,
    allowed: reply.response.allowed,
    injected: outcome.injected,
    code: outcome.code,
    reason: outcome.reason,
    warnings: reply.response.warnings ?? [],
    patchType: reply.response.patchType ?? null,
    patch: decodePatch(reply) ?? [],
  };
}

const EXPECTED: Record<string, { injected: boolean; code: string }> = {
  'deployment-pod.json': { injected: true, code: 'injected' },
  'already-injected.json': { injected: false, code: 'already-injected' },
  'host-network.json': { injected: false, code: 'host-network' },
  'opted-out.json': { injected: false, code: 'opted-out' },
  'kube-system.json': { injected: false, code: 'system-namespace' },
  'statefulset-explicit.json': { injected: true, code: 'injected' },
  'cronjob-pod.json': { injected: true, code: 'injected' },
  'no-app-port.json': { injected: false, code: 'no-app-port' },
  'dry-run-bare-pod.json': { injected: true, code: 'injected' },
};

describe('AdmissionReview fixtures as the API server sends them', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort();

  it('covers every fixture with an expectation', () => {
    assert.deepEqual(files, Object.keys(EXPECTED).sort());
  });

  for (const file of files) {
    it(`${file}: matches its golden patch (UPDATE_GOLDEN=1 rewrites it)`, () => {
      const review = fixture(file);
      const actual = goldenOf(review);
      const goldenFile = join(GOLDEN, file.replace(/\.json$/, '.golden.json'));
      if (UPDATE) writeFileSync(goldenFile, `${JSON.stringify(actual, null, 2)}\n`);
      const golden: unknown = JSON.parse(readFileSync(goldenFile, 'utf8'));
      assert.deepEqual(actual, golden);
      const expected = EXPECTED[file];
      assert.equal((actual as { injected: boolean }).injected, expected?.injected);
      assert.equal((actual as { code: string }).code, expected?.code);
    });

    it(`${file}: the reply echoes the uid, allows, and its patch turns the pod into the injected one`, () => {
      const review = fixture(file);
      const reply = handleAdmissionReview(review, config, NAMESPACES);
      assert.equal(reply.apiVersion, ADMISSION_API_VERSION);
      assert.equal(reply.kind, 'AdmissionReview');
      assert.equal(reply.response.uid, review.request.uid);
      assert.equal(reply.response.allowed, true);
      const patch = decodePatch(reply);
      const direct = injectPod(review.request.object, { namespace: review.request.namespace, namespaceLabels: NAMESPACES.get(review.request.namespace) ?? {} }, config);
      if (patch === undefined) {
        assert.equal(reply.response.patchType, undefined);
        assert.equal(direct.injected, false);
        return;
      }
      assert.equal(reply.response.patchType, 'JSONPatch');
      assert.deepEqual(applyJsonPatch(review.request.object, patch), direct.pod);
      // Idempotent: the injected pod sent again gets no patch.
      const again = handleAdmissionReview({ ...review, request: { ...review.request, object: direct.pod } }, config, NAMESPACES);
      assert.equal(again.response.patch, undefined);
    });
  }

  it('deployment pod: native sidecar after the iptables init container, before the pod\'s own', () => {
    const review = fixture('deployment-pod.json');
    const pod = applyJsonPatch(review.request.object, decodePatch(handleAdmissionReview(review, config, NAMESPACES)) ?? []);
    assert.deepEqual(pod.spec.initContainers?.map((c) => c.name), ['outrigger-init', 'outrigger-proxy', 'migrate']);
    assert.deepEqual(pod.spec.containers.map((c) => c.name), ['catalog', 'log-shipper']);
    assert.equal(pod.spec.initContainers?.[1]?.restartPolicy, 'Always');
    const env = Object.fromEntries((pod.spec.initContainers?.[1]?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom?.fieldRef?.fieldPath]));
    assert.equal(env.OUTRIGGER_SERVICE, 'catalog');
    assert.equal(env.OUTRIGGER_APP, '127.0.0.1:8080');
    assert.deepEqual(pod.metadata?.annotations?.['prometheus.io/scrape'], 'true', 'existing annotations kept');
    assert.deepEqual(pod.spec.volumes?.map((v) => v.name), ['config', 'kube-api-access-x7q2k', 'outrigger-mesh-key', 'outrigger-gossip-key', 'outrigger-state']);
  });

  it('cronjob pod: exclusions in the script, Service from generateName, drain cut to the grace period, warnings', () => {
    const review = fixture('cronjob-pod.json');
    const reply = handleAdmissionReview(review, config, NAMESPACES);
    const pod = applyJsonPatch(review.request.object, decodePatch(reply) ?? []);
    const script = pod.spec.initContainers?.[0]?.args?.[0] ?? '';
    for (const rule of ['--dport 5432 -j RETURN', '--dport 6379 -j RETURN', '--dport 9090:9099 -j RETURN', '-d 169.254.169.254/32 -j RETURN', '-d 10.96.0.0/12 -j RETURN']) {
      assert.ok(script.includes(rule), rule);
    }
    const env = Object.fromEntries((pod.spec.initContainers?.[1]?.env ?? []).map((e) => [e.name, e.value]));
    assert.equal(env.OUTRIGGER_SERVICE, 'nightly-report');
    assert.equal(env.OUTRIGGER_APP, '127.0.0.1:8081');
    assert.equal(env.OUTRIGGER_DRAIN_SECONDS, '10');
    assert.deepEqual(pod.spec.initContainers?.[1]?.resources, { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
    assert.deepEqual(reply.response.warnings, ['outrigger: drain time 20s cut to the pod\'s terminationGracePeriodSeconds (10s)']);
  });

  it('statefulset pod: explicit capture sets proxy env without clobbering, and says so', () => {
    const review = fixture('statefulset-explicit.json');
    const reply = handleAdmissionReview(review, config, NAMESPACES);
    const pod = applyJsonPatch(review.request.object, decodePatch(reply) ?? []);
    assert.deepEqual(pod.spec.initContainers?.map((c) => c.name), ['outrigger-proxy']);
    const [ledger, backup] = pod.spec.containers;
    assert.deepEqual(ledger?.env, [
      { name: 'NO_PROXY', value: '.svc.cluster.local,127.0.0.1,localhost' },
      { name: 'JAVA_OPTS', value: '-Xmx256m' },
      { name: 'HTTP_PROXY', value: 'http://127.0.0.1:15001' },
    ]);
    assert.deepEqual(backup?.env, [
      { name: 'HTTP_PROXY', value: 'http://egress.example.com:3128' },
      { name: 'NO_PROXY', value: '127.0.0.1,localhost' },
    ]);
    const env = Object.fromEntries((pod.spec.initContainers?.[0]?.env ?? []).map((e) => [e.name, e.value]));
    assert.equal(env.OUTRIGGER_SERVICE, 'ledger');
    assert.equal(env.OUTRIGGER_ZONE, 'eu-west-1b');
    assert.deepEqual(reply.response.warnings, [
      'outrigger: proxy memory limit raised from the default 256Mi to the requested 384Mi',
      'outrigger: container ledger: appended 127.0.0.1,localhost to its NO_PROXY',
      'outrigger: container backup: HTTP_PROXY is already "http://egress.example.com:3128", left as is, so its calls do not go through the proxy',
    ]);
  });

  it('no app port: allowed without a patch, and the reason is a warning for kubectl', () => {
    const reply = handleAdmissionReview(fixture('no-app-port.json'), config, NAMESPACES);
    assert.equal(reply.response.patch, undefined);
    assert.match(reply.response.warnings?.[0] ?? '', /^outrigger: sidecar not injected: no app port: container worker declares no TCP containerPort; set annotation outrigger\.dev\/app-port$/);
  });

  it('dry run: the patch is computed as usual (the webhook has no side effects) and the outcome says dry run', () => {
    const { reply, outcome } = reviewAdmission(fixture('dry-run-bare-pod.json'), config, NAMESPACES);
    assert.equal(outcome.dryRun, true);
    assert.equal(reply.response.patchType, 'JSONPatch');
    const patch = decodePatch(reply) ?? [];
    assert.ok(patch.some((op) => op.op === 'add' && op.path === '/spec/initContainers'), 'no initContainers → the whole array is added');
    assert.ok(patch.some((op) => op.op === 'add' && op.path === '/spec/volumes'), 'no volumes → the whole array is added');
    assert.ok(patch.some((op) => op.op === 'add' && op.path === '/metadata/annotations'), 'no annotations → the whole map is added');
  });
});

describe('handleAdmissionReview never throws and never denies', () => {
  const base = fixture('deployment-pod.json');

  it('answers another apiVersion in that apiVersion, allowed, with a clear error', () => {
    const reply = handleAdmissionReview({ ...base, apiVersion: 'admission.k8s.io/v1beta1' }, config, NAMESPACES);
    assert.equal(reply.apiVersion, 'admission.k8s.io/v1beta1');
    assert.equal(reply.response.uid, base.request.uid);
    assert.equal(reply.response.allowed, true);
    assert.equal(reply.response.patch, undefined);
    assert.equal(reply.response.status?.code, 400);
    assert.match(reply.response.status?.message ?? '', /unsupported AdmissionReview apiVersion "admission\.k8s\.io\/v1beta1".*admissionReviewVersions: \["v1"\]/);
  });

  for (const [what, body] of [
    ['null', null],
    ['a string', 'hello'],
    ['an array', []],
    ['no request', { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview' }],
    ['no uid', { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', request: { object: base.request.object } }],
    ['the wrong kind', { ...base, kind: 'Pod' }],
  ] as const) {
    it(`answers ${what} with an allowed review carrying status 400`, () => {
      const reply = handleAdmissionReview(body, config, NAMESPACES);
      assert.equal(reply.kind, 'AdmissionReview');
      assert.equal(reply.response.allowed, true);
      assert.equal(reply.response.status?.code, 400);
      assert.equal(reply.response.patch, undefined);
    });
  }

  it('leaves other resources, sub-resources and operations alone', () => {
    for (const request of [
      { ...base.request, operation: 'UPDATE' },
      { ...base.request, subResource: 'ephemeralcontainers' },
      { ...base.request, kind: { group: 'apps', version: 'v1', kind: 'Deployment' } },
    ]) {
      const { reply, outcome } = reviewAdmission({ ...base, request }, config, NAMESPACES);
      assert.deepEqual(reply.response, { uid: base.request.uid, allowed: true });
      assert.equal(outcome.code, 'not-a-pod-create');
    }
  });

  it('a namespace lookup that throws admits the pod without a sidecar and says why', () => {
    const lookup = (): Labels => {
      throw new Error('namespace cache not synced');
    };
    const reply = handleAdmissionReview(base, config, lookup);
    assert.equal(reply.response.allowed, true);
    assert.equal(reply.response.patch, undefined);
    assert.deepEqual(reply.response.warnings, ['outrigger: injection failed, pod admitted without a sidecar: namespace cache not synced']);
  });

  it('a namespace the lookup does not know only injects on pod-level opt-in', () => {
    const { reply, outcome } = reviewAdmission(base, config, () => undefined);
    assert.equal(reply.response.patch, undefined);
    assert.equal(outcome.code, 'not-opted-in');
    assert.match(outcome.notes[0] ?? '', /labels of namespace shop are not known/);
  });

  it('a pod without containers is not a pod it can inject', () => {
    const { reply, outcome } = reviewAdmission({ ...base, request: { ...base.request, object: { metadata: {}, spec: {} } } }, config, NAMESPACES);
    assert.equal(reply.response.allowed, true);
    assert.equal(outcome.code, 'not-a-pod');
  });

  it('warnings stay on one line and within 256 characters', () => {
    const object = structuredClone(base.request.object);
    object.metadata = { ...object.metadata, annotations: { 'outrigger.dev/app-port': `x\n${'9'.repeat(400)}` } };
    const reply = handleAdmissionReview({ ...base, request: { ...base.request, object } }, config, NAMESPACES);
    const [warning] = reply.response.warnings ?? [];
    assert.ok(warning !== undefined && warning.length <= 256 && !warning.includes('\n'), warning);
  });
});
