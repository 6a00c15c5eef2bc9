import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';

const file = new URL('../examples/jaeger/kubernetes.yaml', import.meta.url);

test('the Jaeger example for Kubernetes parses and wires its Service to the Deployment', () => {
  const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS() as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown> };
  });
  assert.deepEqual(docs.map((d) => `${d.apiVersion}/${d.kind}`), ['v1/Namespace', 'apps/v1/Deployment', 'v1/Service']);
  const [, deployment, service] = docs as [unknown, { spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: { containers: { ports: { name: string; containerPort: number }[] }[] } } } }, { spec: { selector: Record<string, string>; ports: { port: number; targetPort: string }[] } }];
  assert.deepEqual(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels);
  assert.deepEqual(service.spec.selector, deployment.spec.template.metadata.labels);
  const named = new Map(deployment.spec.template.spec.containers[0]?.ports.map((p) => [p.name, p.containerPort]));
  for (const port of service.spec.ports) assert.equal(named.get(port.targetPort), port.port, `Service port ${port.port} reaches the container`);
  assert.ok(service.spec.ports.some((p) => p.port === 4318), 'OTLP/HTTP, where sidecars send spans');
});
