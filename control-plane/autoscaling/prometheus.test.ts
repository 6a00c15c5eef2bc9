import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { registerAutoscalingMetrics } from './prometheus.ts';
import { fixedSource, policyOf } from './test-fixtures.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(match, line);
      const labels: Record<string, string> = {};
      for (const m of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) labels[m[1]!] = m[2]!;
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)?.value;
}

describe('registerAutoscalingMetrics', () => {
  it('exports every signal per Service and window, reporting replicas and the recommendation', async () => {
    const registry = new Registry();
    const policies = [policyOf('checkout', 'shop', { targetRef: { name: 'checkout' }, metrics: [{ name: 'requests_per_second', target: { averageValue: 10 } }] })];
    const stats = { accepted: 7, rejected: 2, outOfOrder: 1, expired: 0, lastError: undefined };
    registerAutoscalingMetrics(registry, { source: fixedSource(), policies: () => policies, stats: () => stats });
    const samples = parse(await registry.metrics());
    assert.equal(value(samples, 'outrigger_autoscaling_requests_per_second', { service: 'checkout.shop', window: 'stable' }), 40);
    assert.equal(value(samples, 'outrigger_autoscaling_requests_per_second', { service: 'checkout.shop', window: 'panic' }), 25);
    assert.equal(value(samples, 'outrigger_autoscaling_concurrency', { service: 'checkout.shop', window: 'stable' }), 4.75);
    assert.equal(value(samples, 'outrigger_autoscaling_error_ratio', { service: 'checkout.shop', window: 'stable' }), 0.005);
    const p99 = value(samples, 'outrigger_autoscaling_latency_p99_ms', { service: 'checkout.shop', window: 'stable' })!;
    assert.ok(Math.abs(p99 - 20) / 20 < 0.05);
    for (const name of ['outrigger_autoscaling_latency_p50_ms', 'outrigger_autoscaling_latency_p90_ms']) {
      assert.ok(value(samples, name, { service: 'catalog.shop', window: 'panic' })! > 0, name);
    }
    assert.equal(value(samples, 'outrigger_autoscaling_replicas', { service: 'checkout.shop' }), 2);
    assert.equal(value(samples, 'outrigger_autoscaling_replicas', { service: 'catalog.shop' }), 1);
    assert.equal(value(samples, 'outrigger_autoscaling_recommended_replicas', { service: 'checkout.shop' }), 4);
    assert.equal(value(samples, 'outrigger_autoscaling_recommended_replicas', { service: 'catalog.shop' }), undefined, 'only Services with an AutoscalingSignal');
    assert.equal(value(samples, 'outrigger_autoscaling_reports_total', { outcome: 'rejected' }), 2);
    assert.equal(value(samples, 'outrigger_autoscaling_reports_total', { outcome: 'accepted' }), 7);
    // Six signals × (3 Services × 2 windows), replicas × 3, one recommendation, four report outcomes.
    assert.equal(samples.length, 6 * 6 + 3 + 1 + 4);
  });

  it('drops Services once nobody reports for them', async () => {
    const registry = new Registry();
    let reports = fixedSource();
    registerAutoscalingMetrics(registry, { source: { services: () => reports.services(), aggregate: (s, w) => reports.aggregate(s, w) }, policies: () => [] });
    assert.ok(parse(await registry.metrics()).length > 0);
    reports = fixedSource([]);
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the per-scrape cache
    assert.deepEqual(parse(await registry.metrics()), []);
  });
});
