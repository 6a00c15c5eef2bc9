import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPolicyTexts } from '../load.ts';

const VALID = `apiVersion: outrigger.dev/v1alpha1
kind: AutoscalingSignal
metadata: { name: checkout, namespace: shop }
spec:
  targetRef: { kind: Service, name: checkout }
  metrics:
    - name: requests_per_second
      target: { averageValue: 50 }
    - name: latency_p99_ms
      window: panic
      target: { value: 250 }
`;

function errorsOf(text: string): string[] {
  const result = loadPolicyTexts([{ file: 'a.yaml', text }], { requireEndpoints: false });
  assert.equal(result.ok, false, 'expected errors');
  return result.ok ? [] : result.errors.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`);
}

function withMetrics(metrics: string, extra = ''): string {
  return `apiVersion: outrigger.dev/v1alpha1
kind: AutoscalingSignal
metadata: { name: checkout }
spec:
  targetRef: { name: checkout }
  metrics:
${metrics}
${extra}`;
}

describe('AutoscalingSignal', () => {
  it('loads into PolicySet.autoscalingSignals with defaults: window stable, tolerance 0.1, targetRef kind Service', () => {
    const result = loadPolicyTexts([{ file: 'a.yaml', text: VALID }]);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
    const [signal] = result.policy.autoscalingSignals;
    assert.equal(signal?.file, 'a.yaml');
    assert.equal(signal?.line, 1);
    assert.deepEqual(signal?.resource.spec, {
      targetRef: { group: '', kind: 'Service', name: 'checkout' },
      metrics: [
        { name: 'requests_per_second', window: 'stable', target: { averageValue: 50 } },
        { name: 'latency_p99_ms', window: 'panic', target: { value: 250 } },
      ],
      tolerance: 0.1,
    });
    assert.deepEqual([result.policy.routes.length, result.policy.trafficPolicies.length, result.policy.endpoints.length], [0, 0, 0]);
  });

  it('needs exactly one of averageValue and value', () => {
    assert.deepEqual(errorsOf(withMetrics('    - { name: concurrency, target: { averageValue: 1, value: 2 } }')), ['7:36 spec.metrics[0].target: set exactly one of averageValue and value']);
    assert.deepEqual(errorsOf(withMetrics('    - { name: concurrency, target: {} }')), ['7:36 spec.metrics[0].target: set exactly one of averageValue and value']);
  });

  it('allows averageValue only for additive metrics, and error_rate targets only up to 1', () => {
    const [latency] = errorsOf(withMetrics('    - { name: latency_p99_ms, target: { averageValue: 100 } }'));
    assert.match(latency ?? '', /spec\.metrics\[0\]\.target\.averageValue: averageValue divides the metric by the replica count/);
    const [ratio] = errorsOf(withMetrics('    - { name: error_rate, target: { value: 5 } }'));
    assert.match(ratio ?? '', /spec\.metrics\[0\]\.target\.value: error_rate is a ratio from 0 to 1/);
  });

  it('rejects unknown metrics and windows, non-positive targets, repeated metrics and bad tolerances', () => {
    assert.match(errorsOf(withMetrics('    - { name: cpu, target: { value: 1 } }'))[0] ?? '', /spec\.metrics\[0\]\.name: expected one of .*requests_per_second/);
    assert.match(errorsOf(withMetrics('    - { name: concurrency, window: burst, target: { value: 1 } }'))[0] ?? '', /spec\.metrics\[0\]\.window: expected .*stable.*panic/);
    assert.match(errorsOf(withMetrics('    - { name: concurrency, target: { value: 0 } }'))[0] ?? '', /spec\.metrics\[0\]\.target\.value/);
    assert.match(
      errorsOf(withMetrics('    - { name: concurrency, target: { value: 1 } }\n    - { name: concurrency, target: { value: 2 } }'))[0] ?? '',
      /spec\.metrics: each metric and window may appear once/,
    );
    assert.match(errorsOf(withMetrics('    - { name: concurrency, target: { value: 1 } }', '  tolerance: 2'))[0] ?? '', /spec\.tolerance/);
    assert.match(errorsOf(withMetrics('    - { name: concurrency, target: { value: 1 }, extra: 1 }'))[0] ?? '', /unknown field "extra"/);
    assert.match(errorsOf(withMetrics('    []'))[0] ?? '', /spec\.metrics/);
  });

  it('allows one AutoscalingSignal per Service', () => {
    const second = VALID.replace('name: checkout, namespace: shop', 'name: checkout-2, namespace: shop');
    const result = loadPolicyTexts([
      { file: 'a.yaml', text: VALID },
      { file: 'b.yaml', text: second },
    ]);
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.errors.map((e) => `${e.file}:${e.line} ${e.path}: ${e.message}`), [
      'b.yaml:5 spec.targetRef.name: Service "shop/checkout" is already targeted by AutoscalingSignal "shop/checkout" at a.yaml:1; a Service takes one AutoscalingSignal, so merge them',
    ]);
  });
});
