import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLogger } from '../../log.ts';
import { newRequestContext } from '../../pipeline/context.ts';
import { ConfigStore } from '../../runtime/config-store.ts';
import { UpstreamPools } from '../../upstream/pools.ts';
import { SidecarMetrics } from './sidecar-metrics.ts';
import { parseExposition } from './test-support.ts';

const DASHBOARD = new URL('../../../examples/grafana/outrigger-golden-signals.json', import.meta.url);

interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
  panels?: Panel[];
}

const dir = mkdtempSync(join(tmpdir(), 'outrigger-dashboard-'));
const store = new ConfigStore(dir, { pools: new UpstreamPools(), localService: { name: 'frontend', namespace: 'default' }, appAddress: '127.0.0.1:9', log: createLogger('test', { level: 'error', write: () => undefined }) }, createLogger('test', { level: 'error', write: () => undefined }));
after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every series name the sidecar exports, with the label names seen on it: the vocabulary the dashboard may use. */
async function exported(): Promise<Map<string, Set<string>>> {
  writeFileSync(
    join(dir, 'catalog.yaml'),
    `apiVersion: outrigger.dev/v1alpha1
kind: ServiceEndpoints
metadata: { name: catalog, namespace: default }
spec: { endpoints: [{ address: "127.0.0.1:1" }] }
---
apiVersion: outrigger.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: catalog }
spec:
  targetRefs: [{ group: "", kind: Service, name: catalog }]
  rateLimit: { direction: Outbound, local: { requests: 5, unit: Minute } }
`,
  );
  assert.ok((await store.reload()).ok);
  const metrics = new SidecarMetrics({ source: store, service: 'frontend', namespace: 'default' });
  const req = new IncomingMessage(new Socket());
  req.headers = {};
  const ctx = newRequestContext({ req, res: new ServerResponse(req), direction: 'outbound', path: '/', query: '', requestId: 'r', hasBody: false, exposeFlag: false });
  ctx.destination = 'catalog.default';
  metrics.observe(ctx, { status: 200, committed: true });
  const names = new Map<string, Set<string>>();
  for (const sample of parseExposition(await metrics.metrics())) {
    const labels = names.get(sample.name) ?? new Set(['job', 'instance']); // added by Prometheus at scrape
    for (const label of Object.keys(sample.labels)) labels.add(label);
    names.set(sample.name, labels);
  }
  return names;
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

test('the Grafana dashboard is valid JSON whose every query uses metrics and labels the sidecar exports', async () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    schemaVersion: number;
    panels: Panel[];
    templating: { list: { name: string; type: string; query: unknown }[] };
  };
  assert.ok(dashboard.schemaVersion >= 36, 'a current Grafana schema');
  assert.ok(dashboard.templating.list.some((v) => v.name === 'DS_PROMETHEUS' && v.type === 'datasource'));

  const panels = allPanels(dashboard.panels).filter((p) => p.type !== 'row');
  assert.ok(panels.length >= 8);
  const exprs: string[] = [];
  for (const panel of panels) {
    assert.equal(panel.datasource?.uid, '${DS_PROMETHEUS}', panel.title);
    assert.ok(panel.targets && panel.targets.length > 0, `${panel.title} has queries`);
    for (const target of panel.targets) {
      assert.equal(target.datasource?.uid, '${DS_PROMETHEUS}', panel.title);
      exprs.push(target.expr);
    }
  }
  for (const variable of dashboard.templating.list) {
    if (variable.type === 'query') exprs.push((variable.query as { query: string }).query);
  }
  for (const title of ['Request rate', 'Success rate', 'Latency p50 / p95 / p99']) assert.ok(panels.some((p) => p.title === title), title);

  const names = await exported();
  for (const expr of exprs) {
    // Metric selectors: a name, optionally followed by {matchers}. Keywords and functions are followed by `(`.
    const selectors = [...expr.matchAll(/\b((?:istio|outrigger|process|nodejs)_[a-zA-Z0-9_]*)(\{([^}]*)\})?/g)];
    assert.ok(selectors.length > 0, `no sidecar metric in: ${expr}`);
    for (const [, name, , matchers] of selectors) {
      const labels = names.get(name!);
      assert.ok(labels, `${name} is not exported by the sidecar (in: ${expr})`);
      for (const [, label] of (matchers ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
        assert.ok(labels.has(label!), `${name} has no label ${label} (in: ${expr})`);
      }
    }
  }
});
