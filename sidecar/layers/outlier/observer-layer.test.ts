import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Endpoint } from '../../endpoints/endpoint.ts';
import type { Logger } from '../../log.ts';
import { fakeContext } from '../../pipeline/fake-context.ts';
import type { Handler, Outcome } from '../../pipeline/context.ts';
import { outlierObserver } from './observer-layer.ts';
import { OutlierDetector } from './outlier-detector.ts';
import { DEFAULT_OUTLIER_DETECTION } from './resolve.ts';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function setup(answer: Outcome | Error) {
  const endpoints = [new Endpoint({ address: '10.0.0.1:8080' }), new Endpoint({ address: '10.0.0.2:8080' })];
  const detector = new OutlierDetector({ service: 'svc.default', endpoints, options: { ...DEFAULT_OUTLIER_DETECTION, consecutive5xx: 1 }, logger: quiet });
  const next: Handler = () => (answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer));
  const layer = outlierObserver(detector);
  assert.ok(layer);
  return { detector, endpoints, handler: layer(next) };
}

test("reports the attempt's outcome against ctx.endpoint and passes it on", async () => {
  const { detector, endpoints, handler } = setup({ status: 502, committed: true });
  const ctx = fakeContext();
  ctx.endpoint = endpoints[0];
  assert.deepEqual(await handler(ctx), { status: 502, committed: true });
  assert.equal(endpoints[0]?.healthy, false);
  detector.close();
});

test('a client disconnect is not reported', async () => {
  const { detector, endpoints, handler } = setup({ status: 499, committed: false, flag: 'DC' });
  const ctx = fakeContext();
  ctx.endpoint = endpoints[0];
  await handler(ctx);
  assert.equal(detector.state(endpoints[0]!)?.consecutive5xx, 0);
  assert.equal(endpoints[0]?.healthy, true);
});

test('no endpoint, nothing reported; a rejected pass propagates unreported', async () => {
  const { endpoints, handler } = setup({ status: 500, committed: true });
  assert.equal((await handler(fakeContext())).status, 500);
  assert.ok(endpoints.every((e) => e.healthy));
  const failing = setup(new Error('bug'));
  const ctx = fakeContext();
  ctx.endpoint = failing.endpoints[0];
  await assert.rejects(failing.handler(ctx), /bug/);
  assert.equal(failing.endpoints[0]?.healthy, true);
});

test('no detector, no layer', () => {
  assert.equal(outlierObserver(undefined), undefined);
});

test('the request whose outcome ejects the endpoint records it in its trace', async () => {
  const { detector, endpoints, handler } = setup({ status: 503, committed: true });
  const events: string[] = [];
  const ctx = fakeContext();
  ctx.endpoint = endpoints[0];
  ctx.trace = { attemptStart: () => ({ end() {} }), event: (name) => void events.push(name), end() {} };
  await handler(ctx);
  assert.deepEqual(events, ['endpoint_ejected']);
  detector.close();
});
