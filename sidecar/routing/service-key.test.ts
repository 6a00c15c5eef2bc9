import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAuthority, serviceKey } from './service-key.ts';
import type { Authority } from './service-key.ts';

describe('serviceKey', () => {
  it('is name.namespace', () => {
    assert.equal(serviceKey('shop', 'catalog'), 'catalog.shop');
  });
});

describe('parseAuthority', () => {
  const parse = (authority: string, clusterDomain = 'cluster.local'): Authority | undefined => parseAuthority(authority, 'web', clusterDomain);
  const svc = (service: string, namespace: string, port?: number): Authority => ({ service, namespace, port });

  const accepted: [string, Authority][] = [
    ['catalog', svc('catalog', 'web')],
    ['catalog:8080', svc('catalog', 'web', 8080)],
    ['catalog.shop', svc('catalog', 'shop')],
    ['catalog.shop:80', svc('catalog', 'shop', 80)],
    ['catalog.shop.svc', svc('catalog', 'shop')],
    ['catalog.shop.svc.cluster.local', svc('catalog', 'shop')],
    ['catalog.shop.svc.cluster.local:65535', svc('catalog', 'shop', 65535)],
    ['catalog.shop.svc.cluster.local.', svc('catalog', 'shop')],
    ['catalog.shop.svc.cluster.local.:8080', svc('catalog', 'shop', 8080)],
    ['catalog.', svc('catalog', 'web')],
    ['Catalog.SHOP.Svc', svc('catalog', 'shop')],
    ['my-svc-2.ns-1:1', svc('my-svc-2', 'ns-1', 1)],
    ['[::1]:8080', svc('[::1]', 'web', 8080)],
    ['[2001:DB8::1]', svc('[2001:db8::1]', 'web')],
    ['10.0.0.1:8080', svc('10.0.0.1', 'web', 8080)],
  ];
  for (const [authority, want] of accepted) {
    it(`accepts ${JSON.stringify(authority)}`, () => {
      assert.deepEqual(parse(authority), want);
    });
  }

  it('uses the configured cluster domain, case-insensitively and with or without a trailing dot', () => {
    assert.deepEqual(parse('catalog.shop.svc.corp.example', 'Corp.Example.'), svc('catalog', 'shop'));
    assert.equal(parse('catalog.shop.svc.cluster.local', 'corp.example'), undefined);
    assert.equal(parse('catalog.shop.svc.cluster.local', ''), undefined);
  });

  const rejected = [
    '',
    ':8080',
    'catalog:',
    'catalog:0',
    'catalog:65536',
    'catalog:123456',
    'catalog:+80',
    'catalog:8o',
    'catalog:80:80',
    'catalog .shop',
    ' catalog',
    'catalog ',
    'user@catalog',
    'catalog/shop',
    'catalog\\shop',
    'cat_alog',
    'cat%61log',
    '-catalog',
    'catalog-',
    'catalog..shop',
    '.catalog',
    'catalog..',
    'a'.repeat(64),
    'catalog.shop.cluster',
    'catalog.shop.svc.other.domain',
    'pod-0.catalog.shop.svc.cluster.local',
    '::1',
    '[::1',
    '[::1]x',
    '[::1]:',
    '[::1]:99999',
    '[not-ipv6]',
    '[fe80::1%25eth0]',
    'catalog\r\nx',
    'caté',
  ];
  for (const authority of rejected) {
    it(`rejects ${JSON.stringify(authority)}`, () => {
      assert.equal(parse(authority), undefined);
    });
  }
});
