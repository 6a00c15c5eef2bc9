import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { loadPolicyTexts, type PolicySet } from '../../policy/load.ts';
import { createLogger } from '../log.ts';
import { compileRuntime, type RuntimeConfig } from '../runtime/compile.ts';
import { retireService, type ServiceRuntime } from '../runtime/service.ts';
import { UpstreamPools } from '../upstream/pools.ts';
import type { Endpoint } from '../endpoints/endpoint.ts';
import type { DiscoveredEndpoint } from './discovery-source.ts';

const log = createLogger('test', { level: 'error', write: () => undefined });
const pools = new UpstreamPools({ retireGraceMs: 0 });
const built: RuntimeConfig[] = [];
after(async () => {
  for (const config of built) for (const service of [...config.services.values(), config.inbound]) retireService(service, undefined);
  await pools.destroy();
});

const POLICY = `apiVersion: outrigger.dev/v1alpha1
kind: ServiceEndpoints
metadata: { name: catalog }
spec:
  endpoints: [{ address: 10.0.0.1:80, weight: 2 }]
---
apiVersion: outrigger.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: catalog }
spec:
  targetRefs: [{ group: "", kind: Service, name: catalog }]
  circuitBreaker: { errorRate: { thresholdPercent: 50 } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: catalog }
spec:
  parentRefs: [{ group: "", kind: Service, name: catalog }]
  rules:
    - backendRefs: [{ name: catalog, weight: 90 }, { name: catalog-v2, weight: 10 }]
`;

function policyOf(text: string): PolicySet {
  const loaded = loadPolicyTexts([{ file: 'policy.yaml', text }], { requireEndpoints: false });
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.errors));
  return loaded.policy;
}

function compile(policy: PolicySet, discovered: Record<string, DiscoveredEndpoint[]>, previous?: RuntimeConfig): RuntimeConfig {
  const result = compileRuntime(policy, {
    generation: 1,
    pools,
    previous,
    localService: { name: 'frontend', namespace: 'default' },
    appAddress: '127.0.0.1:9',
    log,
    discovered: new Map(Object.entries(discovered)),
  });
  assert.ok(result.ok);
  built.push(result.config);
  return result.config;
}

const at = (address: string, state: DiscoveredEndpoint['state'] = 'healthy'): DiscoveredEndpoint => ({ address, weight: 1, state });
const service = (config: RuntimeConfig, key: string): ServiceRuntime => {
  const found = config.services.get(key);
  assert.ok(found, `no runtime for ${key}`);
  return found;
};
const byAddress = (s: ServiceRuntime, address: string): Endpoint => {
  const found = s.endpoints.find((e) => e.address === address);
  assert.ok(found, `no endpoint ${address} in ${s.key}`);
  return found;
};

describe('discovered endpoints in the runtime', () => {
  test('a Service known only through discovery gets a runtime and a default chain; referenced ones exist without endpoints', () => {
    const config = compile(policyOf(POLICY), { 'orders.shop': [at('10.0.1.1:80')] });
    assert.deepEqual(
      service(config, 'orders.shop').endpoints.map((e) => [e.address, e.origin]),
      [['10.0.1.1:80', 'discovered']],
    );
    assert.ok(config.defaultHandlers.has('orders.shop'));
    assert.equal(service(config, 'catalog-v2.default').endpoints.length, 0, 'a backendRef without endpoints answers UH, not NB');
  });

  test('YAML and discovered endpoints are merged, YAML first and winning on a shared address', () => {
    const config = compile(policyOf(POLICY), { 'catalog.default': [at('10.0.0.1:80', 'suspect'), at('10.0.0.2:80')] });
    assert.deepEqual(
      service(config, 'catalog.default').endpoints.map((e) => [e.address, e.weight, e.origin, e.suspect]),
      [
        ['10.0.0.1:80', 2, 'static', false],
        ['10.0.0.2:80', 1, 'discovered', false],
      ],
    );
  });

  test('malformed discovery keys are ignored rather than breaking the build', () => {
    const config = compile(policyOf(POLICY), { catalog: [at('10.0.0.9:80')] });
    assert.equal(config.services.has('catalog'), false);
  });
});

describe('rebuilding after a discovery change keeps the state of what persists', () => {
  test('endpoints that stay keep identity, stats and ejections, also when they turn suspect; Service state carries over', () => {
    const policy = policyOf(POLICY);
    const first = compile(policy, {
      'catalog.default': [at('10.0.0.2:80'), at('10.0.0.3:80'), at('10.0.0.4:80')],
      'orders.shop': [at('10.0.1.1:80')],
    });
    const catalog = service(first, 'catalog.default');
    const stays = byAddress(catalog, '10.0.0.2:80');
    const ejected = byAddress(catalog, '10.0.0.3:80');
    stays.observeLatency(120, performance.now());
    stays.completed = 7;
    const failure = { status: 503, committed: false };
    catalog.detector!.observe(stays, failure);
    catalog.detector!.observe(stays, failure);
    for (let i = 0; i < 5; i++) catalog.detector!.observe(ejected, failure);
    assert.equal(ejected.healthy, false);

    const second = compile(
      policy,
      {
        'catalog.default': [at('10.0.0.2:80', 'suspect'), at('10.0.0.3:80'), at('10.0.0.5:80')],
        'orders.shop': [at('10.0.1.1:80')],
      },
      first,
    );
    const next = service(second, 'catalog.default');
    assert.notEqual(next, catalog, 'the changed Service is rebuilt');
    assert.deepEqual(
      next.endpoints.map((e) => e.address),
      ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.5:80'],
    );
    assert.equal(byAddress(next, '10.0.0.2:80'), stays, 'same Endpoint object despite the new weight');
    assert.equal(stays.suspect, true);
    assert.equal(stays.weight, 0.1);
    assert.equal(stays.completed, 7);
    assert.equal(stays.latencyEstimateMs, 120);
    assert.equal(next.detector!.state(stays)?.consecutive5xx, 2);
    assert.equal(byAddress(next, '10.0.0.3:80'), ejected);
    assert.equal(ejected.healthy, false);
    assert.equal(next.detector!.state(ejected)?.ejected, true, 'the ejection runs on in the new detector');
    assert.equal(next.limiter, catalog.limiter);
    assert.ok(catalog.breaker);
    assert.equal(next.breaker, catalog.breaker);
    assert.equal(next.retryBudget, catalog.retryBudget);

    assert.equal(service(second, 'orders.shop'), service(first, 'orders.shop'), 'an unchanged Service is reused as it is');
    assert.equal(second.inbound, first.inbound);
    assert.equal(second.routeTables, first.routeTables);
    assert.equal(second.loadedAt, first.loadedAt);

    retireService(catalog, next);
    assert.equal(ejected.healthy, false, 'retiring the old generation does not end the handed-over ejection');
  });

  test('a Service dropped by discovery disappears; one emptied stays, without endpoints', () => {
    const policy = policyOf(POLICY);
    const first = compile(policy, { 'a.x': [at('10.0.2.1:80')], 'b.x': [at('10.0.2.2:80')] });
    const second = compile(policy, { 'b.x': [] }, first);
    assert.equal(second.services.has('a.x'), false);
    assert.equal(service(second, 'b.x').endpoints.length, 0);
  });
});

describe('suspect endpoints get a small share', () => {
  const share = (type: string): number => {
    const text = `${POLICY.replace('circuitBreaker: { errorRate: { thresholdPercent: 50 } }', `loadBalancer: { type: ${type} }`)}`;
    const config = compile(policyOf(text), { 'catalog.default': [at('10.0.0.2:80', 'suspect')] });
    const catalog = service(config, 'catalog.default');
    const suspect = byAddress(catalog, '10.0.0.2:80');
    let hits = 0;
    const picks = 20_000;
    for (let i = 0; i < picks; i++) if (catalog.balancer.pick() === suspect) hits++;
    return hits / picks;
  };

  // One healthy endpoint of weight 2 and one suspect of weight 1 × 0.1: 0.1 / 2.1 ≈ 4.8 % of picks.
  for (const type of ['LeastRequest', 'RoundRobin', 'Random', 'PeakEWMA']) {
    test(`${type}: a suspect endpoint beside a healthy one gets well under 15 %`, () => {
      const observed = share(type);
      assert.ok(observed > 0 || type === 'PeakEWMA', `${type}: the suspect should still see a trickle`);
      assert.ok(observed < 0.08, `${type}: suspect share ${(observed * 100).toFixed(1)} %`);
    });
  }
});

test('rebuild time for 200 Services × 20 endpoints (sanity log only)', (t) => {
  const policy = policyOf('');
  const discovered: Record<string, DiscoveredEndpoint[]> = {};
  for (let s = 0; s < 200; s++) {
    discovered[`svc-${s}.default`] = Array.from({ length: 20 }, (_, e) => at(`10.${s >> 8}.${s & 255}.${e + 1}:8080`));
  }
  let started = performance.now();
  const first = compile(policy, discovered);
  const fullMs = performance.now() - started;
  discovered['svc-7.default'] = discovered['svc-7.default']!.map((e, i) => (i === 3 ? { ...e, state: 'suspect' as const } : e));
  started = performance.now();
  const second = compile(policy, discovered, first);
  const oneChangedMs = performance.now() - started;
  assert.equal(second.services.size, 200);
  t.diagnostic(`200 Services × 20 endpoints: first build ${fullMs.toFixed(1)} ms, rebuild with one Service changed ${oneChangedMs.toFixed(1)} ms`);
});
