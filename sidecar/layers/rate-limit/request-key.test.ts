import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import type { Direction, RequestContext } from '../../pipeline/context.ts';
import { fakeContext } from '../../pipeline/fake-context.ts';
import { clientAddress, requestKey, SOURCE_HEADER, UNKEYED } from './request-key.ts';

function ctx(direction: Direction, headers: IncomingHttpHeaders = {}, peer?: string): RequestContext {
  const base = fakeContext({ headers });
  if (peer !== undefined) Object.defineProperty(base.req.socket, 'remoteAddress', { value: peer });
  return { ...base, direction };
}

test('no key: every request shares one bucket', () => {
  assert.equal(requestKey(undefined)(ctx('inbound')), '*');
});

test('Header: the value names the bucket; requests without it share "unkeyed"', () => {
  const key = requestKey({ type: 'Header', header: 'X-Api-Key' });
  assert.equal(key(ctx('inbound', { 'x-api-key': 'team-a' })), 'h:team-a');
  assert.equal(key(ctx('inbound', { 'x-api-key': '' })), UNKEYED);
  assert.equal(key(ctx('inbound')), UNKEYED);
  assert.notEqual(key(ctx('inbound', { 'x-api-key': 'unkeyed' })), UNKEYED, 'no value can pose as the unkeyed bucket');
});

test('Header: long values are hashed to a bounded key, the same value to the same key', () => {
  const key = requestKey({ type: 'Header', header: 'x-user' });
  const long = 'u'.repeat(5_000);
  const a = key(ctx('inbound', { 'x-user': long }));
  assert.ok(a.length < 64, a);
  assert.equal(key(ctx('inbound', { 'x-user': long })), a);
  assert.notEqual(key(ctx('inbound', { 'x-user': `${long}v` })), a);
});

test('SourceService: the calling Service from x-outrigger-source, else "unkeyed"', () => {
  const key = requestKey({ type: 'SourceService' });
  assert.equal(key(ctx('inbound', { [SOURCE_HEADER]: 'web.shop' })), 'src:web.shop');
  assert.equal(key(ctx('inbound')), UNKEYED);
  // outbound: the outbound listener has set it to this sidecar's own Service
  assert.equal(key(ctx('outbound', { [SOURCE_HEADER]: 'checkout.shop' })), 'src:checkout.shop');
});

test('ClientAddress outbound: the socket peer (the local app), IPv4-mapped addresses unwrapped', () => {
  assert.equal(clientAddress(ctx('outbound', { 'x-forwarded-for': '6.6.6.6' }, '::ffff:10.1.2.3')), '10.1.2.3');
  assert.equal(requestKey({ type: 'ClientAddress' })(ctx('outbound', {}, '10.1.2.3')), 'ip:10.1.2.3');
});

test('ClientAddress inbound from a calling sidecar: the address that sidecar saw (rightmost entry it appended)', () => {
  // app 192.168.1.20 -> its sidecar appended it -> our inbound listener appended the peer 10.0.0.9
  const headers = { [SOURCE_HEADER]: 'web.shop', 'x-forwarded-for': '6.6.6.6, 192.168.1.20, 10.0.0.9' };
  assert.equal(clientAddress(ctx('inbound', headers, '10.0.0.9')), '192.168.1.20');
  assert.equal(clientAddress(ctx('inbound', { ...headers, 'x-forwarded-for': '2001:db8::7, 10.0.0.9' }, '10.0.0.9')), '2001:db8::7');
});

test('ClientAddress inbound: the peer when the calling sidecar saw loopback, nothing, or garbage', () => {
  const source = { [SOURCE_HEADER]: 'web.shop' };
  assert.equal(clientAddress(ctx('inbound', { ...source, 'x-forwarded-for': '127.0.0.1, 10.0.0.9' }, '10.0.0.9')), '10.0.0.9');
  assert.equal(clientAddress(ctx('inbound', { ...source, 'x-forwarded-for': '::1, 10.0.0.9' }, '10.0.0.9')), '10.0.0.9');
  assert.equal(clientAddress(ctx('inbound', { ...source, 'x-forwarded-for': '10.0.0.9' }, '10.0.0.9')), '10.0.0.9');
  assert.equal(clientAddress(ctx('inbound', { ...source, 'x-forwarded-for': 'unknown, 10.0.0.9' }, '10.0.0.9')), '10.0.0.9');
});

test('ClientAddress inbound from outside the mesh: the peer; client-written x-forwarded-for is ignored', () => {
  assert.equal(clientAddress(ctx('inbound', { 'x-forwarded-for': '6.6.6.6, 10.0.0.9' }, '10.0.0.9')), '10.0.0.9');
  assert.equal(requestKey({ type: 'ClientAddress' })(ctx('inbound')), UNKEYED, 'no address at all');
});
