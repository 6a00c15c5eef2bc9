import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveInjectorConfig } from './config.ts';
import { decideInjection, type InjectionTarget } from './decision.ts';
import type { Pod } from './k8s-types.ts';

const config = resolveInjectorConfig();

function pod(annotations: Record<string, string> = {}, labels: Record<string, string> = {}, spec: Partial<Pod['spec']> = {}): Pod {
  return { metadata: { name: 'p', annotations, labels }, spec: { containers: [{ name: 'app', ports: [{ containerPort: 8080 }] }], ...spec } };
}

const decide = (p: Pod, target: InjectionTarget): string => {
  const d = decideInjection(p, target, config);
  return `${d.inject ? 'inject' : 'skip'} ${d.code}: ${d.reason}`;
};

describe('decideInjection', () => {
  const enabledNs: InjectionTarget = { namespace: 'shop', namespaceLabels: { 'outrigger.dev/inject': 'enabled' } };
  const plainNs: InjectionTarget = { namespace: 'shop', namespaceLabels: {} };
  const disabledNs: InjectionTarget = { namespace: 'shop', namespaceLabels: { 'outrigger.dev/inject': 'disabled' } };

  it('opts in by namespace label, pod annotation or pod label', () => {
    assert.equal(decide(pod(), enabledNs), 'inject injected: namespace shop has label outrigger.dev/inject=enabled');
    assert.equal(decide(pod({ 'outrigger.dev/inject': 'enabled' }), plainNs), 'inject injected: pod annotation outrigger.dev/inject=enabled');
    assert.equal(decide(pod({}, { 'outrigger.dev/inject': 'enabled' }), plainNs), 'inject injected: pod label outrigger.dev/inject=enabled');
  });

  it('does nothing without an opt-in, and a pod opt-in beats a namespace marked disabled', () => {
    assert.match(decide(pod(), plainNs), /^skip not-opted-in: neither namespace shop/);
    assert.match(decide(pod(), disabledNs), /^skip not-opted-in: namespace shop has label outrigger\.dev\/inject=disabled/);
    assert.match(decide(pod({ 'outrigger.dev/inject': 'enabled' }), disabledNs), /^inject/);
  });

  it('opt-out by annotation (or label) wins over every opt-in, even offline', () => {
    assert.equal(decide(pod({ 'outrigger.dev/inject': 'disabled' }, { 'outrigger.dev/inject': 'enabled' }), enabledNs), 'skip opted-out: pod annotation outrigger.dev/inject=disabled');
    assert.equal(decide(pod({}, { 'outrigger.dev/inject': 'disabled' }), enabledNs), 'skip opted-out: pod label outrigger.dev/inject=disabled');
    assert.match(decide(pod({ 'outrigger.dev/inject': 'disabled' }), { namespaceLabels: undefined }), /^skip opted-out/);
  });

  it('offline (namespace labels unknown) injects unless the pod opts out', () => {
    assert.equal(decide(pod(), { namespaceLabels: undefined }), 'inject injected: namespace labels unknown (offline): injected unless the pod opts out');
  });

  it('never injects system namespaces, the control plane\'s own included, whatever the pod asks', () => {
    for (const namespace of ['kube-system', 'kube-public', 'kube-node-lease', 'outrigger-system']) {
      assert.match(decide(pod({ 'outrigger.dev/inject': 'enabled' }), { namespace, namespaceLabels: { 'outrigger.dev/inject': 'enabled' } }), /^skip system-namespace/);
    }
    assert.match(decide({ ...pod(), metadata: { namespace: 'kube-system' } }, { namespaceLabels: undefined }), /^skip system-namespace/, 'namespace from the pod when the target has none');
    const custom = resolveInjectorConfig({ systemNamespaces: ['infra'] });
    assert.equal(decideInjection(pod(), { namespace: 'kube-system', namespaceLabels: undefined }, custom).inject, true);
    assert.equal(decideInjection(pod(), { namespace: 'infra', namespaceLabels: undefined }, custom).code, 'system-namespace');
  });

  it('never injects host-network pods', () => {
    assert.match(decide(pod({}, {}, { hostNetwork: true }), enabledNs), /^skip host-network/);
  });

  it('never injects twice: status annotation or our containers', () => {
    assert.match(decide(pod({ 'outrigger.dev/status': '{}' }), enabledNs), /^skip already-injected: pod already has annotation outrigger\.dev\/status/);
    assert.match(decide(pod({}, {}, { initContainers: [{ name: 'outrigger-proxy' }] }), enabledNs), /^skip already-injected: pod already has container outrigger-proxy in initContainers/);
    assert.match(decide(pod({}, {}, { containers: [{ name: 'outrigger-proxy' }, { name: 'app' }] }), enabledNs), /^skip already-injected: pod already has container outrigger-proxy in containers/);
  });

  it('rejects values other than enabled/disabled instead of guessing', () => {
    assert.equal(decide(pod({ 'outrigger.dev/inject': 'true' }), enabledNs), 'skip invalid-annotation: pod annotation outrigger.dev/inject="true" must be "enabled" or "disabled"');
  });
});
