import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { resolveInjectorConfig } from '../../control-plane/injection/config.ts';
import { injectPod } from '../../control-plane/injection/inject-pod.ts';
import type { Container, Pod } from '../../control-plane/injection/k8s-types.ts';
import { createInjectCommand, injectCommand } from './inject.ts';

const DEPLOYMENT = `# The catalog API
apiVersion: apps/v1
kind: Deployment
metadata:
  name: catalog
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: { app: catalog }
  template:
    metadata:
      labels: { app: catalog } # the Service selects this
    spec:
      containers:
        - name: catalog # the app itself
          image: registry.example.com/shop/catalog:2.14.1
          ports:
            - containerPort: 8080
`;

const SERVICE = `---
# Left exactly as written, odd spacing included
apiVersion: v1
kind: Service
metadata: {name: catalog,   namespace: shop}
spec:
  selector: { app: catalog }
  ports: [{port: 80, targetPort: 8080}]   # http
`;

const CRONJOB = `---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly-report
  namespace: shop
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        metadata:
          annotations:
            outrigger.dev/app-port: "9000" # metrics only
        spec:
          restartPolicy: Never
          containers:
            - name: report
              image: registry.example.com/analytics/report:1.0.3
`;

const OPTED_OUT = `---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec:
  template:
    metadata:
      annotations: { outrigger.dev/inject: disabled }
    spec:
      containers: [{ name: db, image: postgres:17, ports: [{ containerPort: 5432 }] }]
`;

interface Run {
  code: number;
  out: string;
  err: string[];
}

async function run(args: string[], stdin = ''): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const command = createInjectCommand({ readStdin: () => Promise.resolve(stdin) });
  const code = await command.run(args, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.map((chunk) => `${chunk}\n`).join(''), err };
}

describe('outrigger inject', () => {
  let dir = '';
  let stream = '';
  let bad = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outrigger-inject-'));
    stream = join(dir, 'app.yaml');
    bad = join(dir, 'bad.yaml');
    await writeFile(stream, DEPLOYMENT + SERVICE + CRONJOB + OPTED_OUT);
    await writeFile(bad, `${DEPLOYMENT}---\napiVersion: v1\nkind: Service\nmetadata: { name: [unclosed\nspec: {}\n`);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('injects the Deployment and the CronJob, passes the Service through byte for byte, keeps order and comments', async () => {
    const { code, out, err } = await run(['-f', stream]);
    assert.equal(code, 0, err.join('\n'));
    const docs = parseAllDocuments(out);
    assert.ok(Array.isArray(docs));
    assert.deepEqual(docs.map((d) => d.errors), [[], [], [], []]);
    const objects = docs.map((d) => d.toJS() as { kind: string; spec: Record<string, unknown> });
    assert.deepEqual(objects.map((o) => o.kind), ['Deployment', 'Service', 'CronJob', 'StatefulSet']);

    assert.ok(out.includes(SERVICE), 'the Service document is copied unchanged');
    assert.ok(out.endsWith(OPTED_OUT), 'the opted-out StatefulSet is copied unchanged');
    for (const comment of ['# The catalog API', '# the Service selects this', '# the app itself', '# metrics only']) assert.ok(out.includes(comment), comment);

    const config = resolveInjectorConfig();
    const deployment = objects[0] as unknown as { metadata: { name: string; namespace: string }; spec: { template: Pod } };
    const original = parseAllDocuments(DEPLOYMENT)[0]?.toJS() as { spec: { template: Pod } };
    const expected = injectPod(original.spec.template, { namespace: 'shop', namespaceLabels: undefined, workloadName: 'catalog' }, config);
    assert.deepEqual(deployment.spec.template, expected.pod, 'the same mutation as the webhook');
    assert.deepEqual(deployment.spec.template.spec.initContainers?.map((c: Container) => c.name), ['outrigger-init', 'outrigger-proxy']);

    const cron = objects[2] as unknown as { spec: { jobTemplate: { spec: { template: Pod } } } };
    const template = cron.spec.jobTemplate.spec.template;
    const proxy = template.spec.initContainers?.find((c) => c.name === 'outrigger-proxy');
    const env = Object.fromEntries((proxy?.env ?? []).map((e) => [e.name, e.value]));
    assert.equal(env.OUTRIGGER_SERVICE, 'nightly-report', 'the workload name when no label says');
    assert.equal(env.OUTRIGGER_APP, '127.0.0.1:9000');
    assert.equal(template.metadata?.annotations?.['outrigger.dev/app-port'], '9000');

    assert.equal(err.length, 3);
    assert.match(err[0] ?? '', new RegExp(`^${stream.replaceAll('.', '\\.')}:2: Deployment/catalog\\.shop: injected: namespace labels unknown \\(offline\\)`));
    assert.match(err[1] ?? '', /:\d+: CronJob\/nightly-report\.shop: injected: /);
    assert.match(err[2] ?? '', /:\d+: StatefulSet\/db: not injected \(opted-out\): pod annotation outrigger\.dev\/inject=disabled$/);
  });

  it('changes nothing the second time', async () => {
    const first = await run(['-f', stream]);
    const second = await run(['-f', '-', '--quiet'], first.out);
    assert.equal(second.code, 0);
    assert.equal(second.out, first.out);
    assert.deepEqual(second.err, []);
  });

  it('reads stdin with -f - and honours the mode flags', async () => {
    const { code, out, err } = await run(['-f', '-', '--sidecar-mode', 'container', '--capture', 'explicit', '--image', 'example.com/outrigger:dev', '-q'], DEPLOYMENT);
    assert.equal(code, 0, err.join('\n'));
    const deployment = parseAllDocuments(out)[0]?.toJS() as { spec: { template: Pod } };
    const spec = deployment.spec.template.spec;
    assert.deepEqual(spec.containers.map((c) => c.name), ['outrigger-proxy', 'catalog']);
    assert.equal(spec.initContainers, undefined);
    assert.equal(spec.containers[0]?.image, 'example.com/outrigger:dev');
    assert.deepEqual(spec.containers[1]?.env, [{ name: 'HTTP_PROXY', value: 'http://127.0.0.1:15001' }, { name: 'NO_PROXY', value: '127.0.0.1,localhost' }]);
  });

  it('passes other kinds and system namespaces through unchanged', async () => {
    const input = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\ndata: { a: "1" }\n---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: { name: agent, namespace: kube-system }\nspec:\n  template:\n    spec:\n      containers: [{ name: a, ports: [{ containerPort: 1 }] }]\n---\napiVersion: example.com/v1\nkind: Deployment\nmetadata: { name: not-apps }\nspec: { template: { spec: { containers: [{ name: a }] } } }\n`;
    const { code, out, err } = await run(['-f', '-'], input);
    assert.equal(code, 0);
    assert.equal(out, input);
    assert.deepEqual(err.map((line) => line.replace(/^<stdin>:\d+: /, '')), ['DaemonSet/agent.kube-system: not injected (system-namespace): namespace kube-system is a system namespace and is never injected']);
  });

  it('turns flow collections that receive the sidecar into block style, and leaves their siblings alone', async () => {
    const input = 'apiVersion: v1\nkind: Pod\nmetadata: { name: web, labels: { app: web } }\nspec: { containers: [{ name: web, image: nginx, ports: [{ containerPort: 80 }] }] }\n';
    const { code, out } = await run(['-f', '-', '-q'], input);
    assert.equal(code, 0);
    assert.match(out, /^metadata:\n {2}name: web\n {2}labels: \{ app: web \}\n {2}annotations:\n/m);
    assert.match(out, /^spec:\n {2}containers: \[ \{ name: web, image: nginx, ports: \[ \{ containerPort: 80 \} \] \} \]\n {2}initContainers:\n {4}- name: outrigger-init\n/m);
    const pod = parseAllDocuments(out)[0]?.toJS() as Pod;
    const original = parseAllDocuments(input)[0]?.toJS() as Pod;
    assert.deepEqual(pod, injectPod(original, { namespaceLabels: undefined }, resolveInjectorConfig()).pod);
  });

  it('rewrites a template whole when aliases would carry the change elsewhere, and says so', async () => {
    const input = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api }\nspec:\n  template:\n    spec:\n      containers:\n        - &app\n          name: api\n          image: api:1\n          ports: [{ containerPort: 8080 }]\n      initContainers:\n        - *app\n';
    const { code, out, err } = await run(['-f', '-', '--capture', 'explicit'], input);
    assert.equal(code, 0);
    const deployment = parseAllDocuments(out)[0]?.toJS() as { spec: { template: Pod } };
    const original = parseAllDocuments(input)[0]?.toJS() as { spec: { template: Pod } };
    const expected = injectPod(original.spec.template, { namespaceLabels: undefined, workloadName: 'api' }, resolveInjectorConfig({ captureMode: 'explicit' }));
    assert.deepEqual(deployment.spec.template, expected.pod);
    assert.match(err[0] ?? '', /\n {2}note: pod template rewritten whole, its comments dropped/);
  });

  it('reports bad YAML as file:line:column and exits 1', async () => {
    const { code, out, err } = await run(['-f', bad]);
    assert.equal(code, 1);
    assert.equal(out, '');
    assert.equal(err.length, 1);
    assert.match(err[0] ?? '', new RegExp(`^${bad.replaceAll('.', '\\.')}:2[2-4]:\\d+: `));
  });

  it('exits 1 when the file cannot be read', async () => {
    const { code, err } = await run(['-f', join(dir, 'missing.yaml')]);
    assert.equal(code, 1);
    assert.match(err[0] ?? '', /cannot read .*missing\.yaml: ENOENT/);
  });

  it('prints usage with --help and exits 2 on usage errors', async () => {
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /^outrigger inject -f FILE\|- \[flags\]/);
    assert.equal(injectCommand.name, 'inject');
    for (const args of [[], ['--frobnicate'], ['-f', stream, '--sidecar-mode', 'sidecar'], ['-f', stream, '--capture', 'ebpf'], ['extra']]) {
      const result = await run(args);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.err[0] ?? '', /^outrigger inject: /);
      assert.equal(result.out, '');
    }
  });
});
