import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HTTPPathModifier } from '../../policy/schema/http-route.ts';
import { applyHeaderModifier, mirrorSelected, redirectLocation, rewritePath } from './filters.ts';
import type { RedirectRequest, RequestMirror, RequestRedirect } from './filters.ts';

describe('applyHeaderModifier', () => {
  it('spec example: set replaces, add appends with ",", remove deletes', () => {
    const headers: Record<string, string | string[] | undefined> = { 'my-header1': 'foo', 'my-header2': 'foo', 'my-header3': 'bar' };
    applyHeaderModifier(headers, {
      set: [{ name: 'my-header1', value: 'bar' }],
      add: [{ name: 'my-header2', value: 'bar,baz' }],
      remove: ['my-header3'],
    });
    assert.deepEqual(headers, { 'my-header1': 'bar', 'my-header2': 'foo,bar,baz' });
  });

  it('names are case-insensitive and stored lower-case', () => {
    const headers: Record<string, string | string[] | undefined> = { 'x-a': '1', 'x-b': '2' };
    applyHeaderModifier(headers, { set: [{ name: 'X-A', value: 'one' }], remove: ['X-B'], add: [{ name: 'X-New', value: 'n' }] });
    assert.deepEqual(headers, { 'x-a': 'one', 'x-new': 'n' });
  });

  it('add appends to arrays and keeps set-cookie as separate values', () => {
    const headers: Record<string, string | string[] | undefined> = { 'x-list': ['a', 'b'], 'set-cookie': 'a=1' };
    const original = headers['x-list'];
    applyHeaderModifier(headers, { add: [{ name: 'x-list', value: 'c' }, { name: 'Set-Cookie', value: 'b=2' }, { name: 'set-cookie', value: 'c=3' }] });
    assert.deepEqual(headers, { 'x-list': ['a', 'b', 'c'], 'set-cookie': ['a=1', 'b=2', 'c=3'] });
    assert.deepEqual(original, ['a', 'b'], 'the caller’s array is not mutated');
  });

  it('applies remove, then set, then add (Envoy order)', () => {
    const headers: Record<string, string | string[] | undefined> = { x: 'old' };
    applyHeaderModifier(headers, { remove: ['x'], set: [{ name: 'x', value: 'set' }], add: [{ name: 'x', value: 'added' }] });
    assert.deepEqual(headers, { x: 'set,added' });
  });

  it('treats inherited properties as absent', () => {
    const headers: Record<string, string | string[] | undefined> = {};
    applyHeaderModifier(headers, { add: [{ name: 'constructor', value: 'v' }] });
    assert.equal(headers['constructor'], 'v');
  });
});

describe('rewritePath', () => {
  const prefix = (replacePrefixMatch: string): HTTPPathModifier => ({ type: 'ReplacePrefixMatch', replacePrefixMatch });
  // The Gateway API HTTPPathModifier table; its "<empty string>" rows are written "/" by the schema's rule that
  // replacements start with "/", and produce the same paths.
  const table: [path: string, matched: string, replacement: string, want: string][] = [
    ['/foo/bar', '/foo', '/xyz', '/xyz/bar'],
    ['/foo/bar', '/foo', '/xyz/', '/xyz/bar'],
    ['/foo/bar', '/foo/', '/xyz', '/xyz/bar'],
    ['/foo/bar', '/foo/', '/xyz/', '/xyz/bar'],
    ['/foo', '/foo', '/xyz', '/xyz'],
    ['/foo/', '/foo', '/xyz', '/xyz/'],
    ['/foo/bar', '/foo', '/', '/bar'],
    ['/foo/', '/foo', '/', '/'],
    ['/foo', '/foo', '/', '/'],
    ['/prefix/one/two', '/prefix/one', '/one', '/one/two'],
    ['/anything', '/', '/base', '/base/anything'],
    ['/', '/', '/base', '/base/'],
  ];
  for (const [path, matched, replacement, want] of table) {
    it(`ReplacePrefixMatch ${matched} → ${replacement}: ${path} → ${want}`, () => {
      assert.equal(rewritePath(path, prefix(replacement), matched), want);
    });
  }

  it('ReplaceFullPath replaces the whole path', () => {
    assert.equal(rewritePath('/foo/bar', { type: 'ReplaceFullPath', replaceFullPath: '/full' }, '/foo'), '/full');
    assert.equal(rewritePath('/foo/bar', { type: 'ReplaceFullPath', replaceFullPath: '/full' }, undefined), '/full');
  });

  it('ReplacePrefixMatch leaves the path alone without a matching prefix', () => {
    assert.equal(rewritePath('/foo/bar', prefix('/xyz'), undefined), '/foo/bar');
    assert.equal(rewritePath('/foobar', prefix('/xyz'), '/foo'), '/foobar');
  });
});

describe('redirectLocation', () => {
  const req: RedirectRequest = { scheme: 'http', host: 'catalog.shop', port: 8080, path: '/foo/bar', query: 'a=1&b=2' };
  const { port: _port, ...portless } = req;
  const cases: [name: string, redirect: Partial<RequestRedirect>, request: RedirectRequest, matched: string | undefined, want: string][] = [
    ['no fields: same URL, arrival port kept', {}, req, '/foo', 'http://catalog.shop:8080/foo/bar?a=1&b=2'],
    ['scheme https without port: 443, omitted', { scheme: 'https' }, req, '/foo', 'https://catalog.shop/foo/bar?a=1&b=2'],
    ['scheme http without port: 80, omitted', { scheme: 'http' }, req, '/foo', 'http://catalog.shop/foo/bar?a=1&b=2'],
    ['scheme https with port 8443', { scheme: 'https', port: 8443 }, req, '/foo', 'https://catalog.shop:8443/foo/bar?a=1&b=2'],
    ['explicit port 443 on https is omitted', { scheme: 'https', port: 443 }, req, '/foo', 'https://catalog.shop/foo/bar?a=1&b=2'],
    ['explicit port 80 on an http request is omitted', { port: 80 }, req, '/foo', 'http://catalog.shop/foo/bar?a=1&b=2'],
    ['port 443 on http is kept', { port: 443 }, req, '/foo', 'http://catalog.shop:443/foo/bar?a=1&b=2'],
    ['hostname', { hostname: 'example.com' }, { ...req, port: 80 }, '/foo', 'http://example.com/foo/bar?a=1&b=2'],
    ['request without a port', { hostname: 'example.com' }, portless, '/foo', 'http://example.com/foo/bar?a=1&b=2'],
    ['ReplacePrefixMatch', { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/xyz' } }, req, '/foo', 'http://catalog.shop:8080/xyz/bar?a=1&b=2'],
    ['ReplaceFullPath, no query', { path: { type: 'ReplaceFullPath', replaceFullPath: '/new' } }, { ...req, query: '' }, undefined, 'http://catalog.shop:8080/new'],
    ['IPv6 host gets brackets', {}, { ...req, host: '::1' }, undefined, 'http://[::1]:8080/foo/bar?a=1&b=2'],
    ['bracketed IPv6 host kept', { scheme: 'https' }, { ...req, host: '[::1]' }, undefined, 'https://[::1]/foo/bar?a=1&b=2'],
  ];
  for (const [name, redirect, request, matched, want] of cases) {
    it(name, () => {
      assert.equal(redirectLocation(request, { statusCode: 302, ...redirect }, matched), want);
    });
  }
});

describe('mirrorSelected', () => {
  const never = (): number => assert.fail('random() called');
  const backendRef = { group: '', kind: 'Service', name: 'shadow' } as const;
  const mirror = (extra: Partial<RequestMirror>): RequestMirror => ({ backendRef, ...extra });

  it('neither percent nor fraction: every request', () => {
    assert.equal(mirrorSelected(mirror({}), never), true);
  });

  it('percent', () => {
    assert.equal(mirrorSelected(mirror({ percent: 0 }), never), false);
    assert.equal(mirrorSelected(mirror({ percent: 100 }), never), true);
    assert.equal(mirrorSelected(mirror({ percent: 25 }), () => 0.2499), true);
    assert.equal(mirrorSelected(mirror({ percent: 25 }), () => 0.25), false);
  });

  it('fraction', () => {
    assert.equal(mirrorSelected(mirror({ fraction: { numerator: 0, denominator: 3 } }), never), false);
    assert.equal(mirrorSelected(mirror({ fraction: { numerator: 3, denominator: 3 } }), never), true);
    assert.equal(mirrorSelected(mirror({ fraction: { numerator: 1, denominator: 3 } }), () => 0.33), true);
    assert.equal(mirrorSelected(mirror({ fraction: { numerator: 1, denominator: 3 } }), () => 0.34), false);
  });

  it('percent 10 selects about 10% of requests', () => {
    let state = 7;
    const random = (): number => ((state = (state * 48271) % 2147483647) - 1) / 2147483646;
    let selected = 0;
    for (let i = 0; i < 10_000; i++) if (mirrorSelected(mirror({ percent: 10 }), random)) selected++;
    assert.ok(Math.abs(selected - 1000) <= 3 * Math.sqrt(10_000 * 0.1 * 0.9), `${selected}`);
  });
});
