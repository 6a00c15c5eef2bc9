import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Endpoint } from '../endpoints/endpoint.ts';
import { fakeContext } from '../pipeline/fake-context.ts';
import { RecentRequests } from './recent-requests.ts';

function request(recent: RecentRequests, id: string, status: number, tried: string[] = []): void {
  const ctx = fakeContext({ headers: { host: 'catalog' } });
  Object.assign(ctx, { requestId: id, routeName: 'default/catalog#0', destination: 'catalog.default', attempts: Math.max(1, tried.length) });
  if (tried.length > 0) {
    const endpoints = tried.map((address) => new Endpoint({ address }));
    ctx.triedEndpoints = new Set(endpoints.slice(0, -1));
    ctx.endpoint = endpoints[endpoints.length - 1];
  }
  recent.observer(ctx, { status, committed: true, ...(status >= 500 ? { flag: 'UF' as const } : {}) });
}

test('remembers a request by id with its route, attempts and endpoints in order', () => {
  const recent = new RecentRequests(10);
  request(recent, 'a', 200, ['10.0.0.1:80', '10.0.0.2:80']);
  const record = recent.get('a');
  assert.ok(record);
  assert.deepEqual(record.endpoints, ['10.0.0.1:80', '10.0.0.2:80']);
  assert.equal(record.route, 'default/catalog#0');
  assert.equal(record.attempts, 2);
  assert.ok(!Number.isNaN(Date.parse(record.at)));
});

test('the ring is bounded: the oldest ids are forgotten, and failures come newest first', () => {
  const recent = new RecentRequests(3);
  request(recent, 'one', 503);
  request(recent, 'two', 200);
  request(recent, 'three', 502);
  request(recent, 'four', 200);
  assert.equal(recent.get('one'), undefined);
  assert.ok(recent.get('four'));
  assert.deepEqual(recent.failures().map((r) => r.requestId), ['three']);
});

test('an id seen twice (inbound, then the app calls out with it) answers with the newest request, across the ring\'s wrap', () => {
  const recent = new RecentRequests(3);
  request(recent, 'shared', 200, ['10.0.0.1:80']);
  request(recent, 'x', 200);
  request(recent, 'y', 200);
  request(recent, 'shared', 503, ['10.0.0.9:80']);
  const record = recent.get('shared');
  assert.equal(record?.status, 503);
  assert.deepEqual(record?.endpoints, ['10.0.0.9:80']);
  assert.deepEqual(recent.get('x')?.endpoints, []);
  assert.equal(recent.get('never'), undefined);
  assert.deepEqual(recent.failures().map((r) => r.requestId), ['shared']);
});
