import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { trafficPolicy } from '../../../policy/schema/traffic-policy.ts';
import { createLogger } from '../../log.ts';
import { createRateLimit, resolveRateLimits, type RateLimitSpec } from './rate-limit-runtime.ts';

const EXAMPLE = `
apiVersion: outrigger.dev/v1alpha1
kind: TrafficPolicy
metadata: {name: catalog-limits, namespace: shop}
spec:
  targetRefs: [{name: catalog}]
  rateLimit:
    local:
      requests: 100
      unit: Second
      burst: 200
      key: {type: Header, header: x-api-key}
    global:
      requests: 1000
      unit: Minute
      key: {type: SourceService}
      redis: {url: "redis://redis.outrigger-system:6379", timeout: 20ms}
      failureMode: Closed
`;

function specOf(yaml: string): RateLimitSpec {
  const rateLimit = trafficPolicy.parse(parse(yaml)).spec.rateLimit;
  assert.ok(rateLimit);
  return rateLimit;
}

const silent = createLogger('test', { write: () => undefined });

test('schema: the documented example parses, with safe defaults', () => {
  const spec = specOf(EXAMPLE);
  assert.equal(spec.direction, 'Inbound');
  assert.equal(spec.headers, 'OnLimited');
  assert.equal(spec.global?.redis.timeout, 20);
  const minimal = specOf(EXAMPLE.replace(/ {4}local:[\s\S]*$/, '    global: {requests: 5, unit: Second, redis: {url: "redis://r:6379"}}\n'));
  assert.equal(minimal.global?.failureMode, 'Open');
});

test('schema: refuses rules that would not do what they say', () => {
  const bad = (rateLimit: unknown): boolean =>
    !trafficPolicy.safeParse({ ...parse(EXAMPLE), spec: { targetRefs: [{ name: 'catalog' }], rateLimit } }).success;
  assert.ok(bad({}), 'neither local nor global');
  assert.ok(bad({ local: { requests: 1, unit: 'Second', key: { type: 'Header' } } }), 'Header without header');
  assert.ok(bad({ local: { requests: 1, unit: 'Second', key: { type: 'ClientAddress', header: 'x' } } }), 'header on ClientAddress');
  assert.ok(bad({ local: { requests: 0, unit: 'Second' } }), 'zero requests');
  assert.ok(bad({ global: { requests: 1, unit: 'Second', redis: { url: 'http://r' } } }), 'not a redis URL');
  assert.ok(bad({ global: { requests: 1, unit: 'Second', redis: { url: 'redis://r', timeout: '5s' } } }), 'timeout over 1 s');
  assert.ok(bad({ direction: 'Both', local: { requests: 1, unit: 'Second' } }), 'unknown direction');
});

test('resolveRateLimits: a Service\'s limits apply to one direction only', () => {
  const inbound = specOf(EXAMPLE);
  const resolved = resolveRateLimits(inbound, 'inbound');
  assert.deepEqual(resolved, {
    local: { policy: { name: 'local', quota: 100, windowSeconds: 1 }, shape: { burst: 200, intervalUs: 10_000 }, key: { type: 'Header', header: 'x-api-key' } },
    global: {
      policy: { name: 'global', quota: 1000, windowSeconds: 60 },
      shape: { burst: 1000, intervalUs: 60_000 },
      key: { type: 'SourceService' },
      redisUrl: 'redis://redis.outrigger-system:6379',
      timeoutMs: 20,
      failureMode: 'Closed',
    },
    headersOnAllowed: false,
  });
  assert.equal(resolveRateLimits(inbound, 'outbound'), undefined);
  const outbound = { ...inbound, direction: 'Outbound' as const };
  assert.equal(resolveRateLimits(outbound, 'inbound'), undefined);
  assert.ok(resolveRateLimits(outbound, 'outbound'));
  assert.equal(resolveRateLimits(undefined, 'inbound'), undefined);
  assert.equal(resolveRateLimits({ ...inbound, global: undefined }, 'inbound')?.global, undefined);
});

test('createRateLimit: a reload with the same limits keeps the runtime (buckets, counters, connection)', async () => {
  const spec = specOf(EXAMPLE);
  const localOnly = resolveRateLimits({ ...spec, global: undefined }, 'inbound')!;
  const service = { name: 'catalog', namespace: 'shop' };
  const first = createRateLimit(localOnly, service, { logger: silent });
  assert.equal(await first.whenReady(10), true, 'no backend to wait for');
  assert.equal(createRateLimit(localOnly, service, { logger: silent, previous: first }), first);
  const changed = resolveRateLimits({ ...spec, global: undefined, local: { requests: 5, unit: 'Second' } }, 'inbound')!;
  const second = createRateLimit(changed, service, { logger: silent, previous: first });
  assert.notEqual(second, first);
  assert.notEqual(createRateLimit(localOnly, { name: 'other', namespace: 'shop' }, { logger: silent, previous: first }), first);
  await Promise.all([first.close(), second.close()]);
});
