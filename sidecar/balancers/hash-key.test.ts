import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoadBalancerSpec } from '../../policy/schema/traffic-policy.ts';
import { hashKeyFor } from './hash-key.ts';

const byHeader: LoadBalancerSpec = { type: 'ConsistentHash', consistentHash: { type: 'Header', header: { name: 'X-User' }, tableSize: 65537 } };
const byCookie: LoadBalancerSpec = { type: 'ConsistentHash', consistentHash: { type: 'Cookie', cookie: { name: 'session' }, tableSize: 65537 } };
const bySource: LoadBalancerSpec = { type: 'ConsistentHash', consistentHash: { type: 'SourceIP', tableSize: 65537 } };

describe('hashKeyFor', () => {
  it('reads a header, whatever the case of its configured name', () => {
    assert.equal(hashKeyFor(byHeader, { 'x-user': 'alice' }, '10.0.0.1'), 'alice');
    assert.equal(hashKeyFor(byHeader, { 'x-user': ['a', 'b'] }, '10.0.0.1'), 'a,b');
    assert.equal(hashKeyFor(byHeader, { 'x-other': 'alice' }, '10.0.0.1'), undefined);
    assert.equal(hashKeyFor(byHeader, { 'x-user': [] }, '10.0.0.1'), undefined);
  });

  it('reads a cookie', () => {
    assert.equal(hashKeyFor(byCookie, { cookie: 'theme=dark; session=abc123; lang=en' }, undefined), 'abc123');
    assert.equal(hashKeyFor(byCookie, { cookie: 'session="q v"' }, undefined), 'q v');
    assert.equal(hashKeyFor(byCookie, { cookie: 'session=' }, undefined), '');
    assert.equal(hashKeyFor(byCookie, { cookie: ['a=1', 'session=xyz'] }, undefined), 'xyz');
    assert.equal(hashKeyFor(byCookie, { cookie: 'mysession=abc; session2=x; flag' }, undefined), undefined);
    assert.equal(hashKeyFor(byCookie, {}, undefined), undefined);
  });

  it('uses the client address, IPv4-mapped IPv6 as plain IPv4', () => {
    assert.equal(hashKeyFor(bySource, {}, '10.1.2.3'), '10.1.2.3');
    assert.equal(hashKeyFor(bySource, {}, '::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(hashKeyFor(bySource, {}, '2001:db8::1'), '2001:db8::1');
    assert.equal(hashKeyFor(bySource, {}, undefined), undefined);
  });

  it('gives no key for other balancers', () => {
    assert.equal(hashKeyFor({ type: 'LeastRequest' }, { 'x-user': 'alice' }, '10.0.0.1'), undefined);
  });
});
