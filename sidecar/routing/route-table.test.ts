import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { route } from './route-fixtures.ts';
import type { RouteInit } from './route-fixtures.ts';
import { compileRouteTables, RouteCompileError } from './route-table.ts';
import type { RequestView, RouteTable } from './route-table.ts';

function request(path: string, init: Partial<RequestView> = {}): RequestView {
  return { method: 'GET', path, query: '', headers: {}, ...init };
}

function table(...routes: RouteInit[]): RouteTable {
  const found = compileRouteTables(routes.map(route)).get('catalog.shop');
  assert.ok(found, 'table for catalog.shop');
  return found;
}

function matchesPath(type: 'Exact' | 'PathPrefix' | 'RegularExpression', value: string, path: string): boolean {
  return table({ name: 'r', rules: [{ matches: [{ path: { type, value } }] }] }).match(request(path)) !== undefined;
}

describe('path matching', () => {
  const prefixCases: [prefix: string, path: string, want: boolean][] = [
    ['/foo', '/foo', true],
    ['/foo', '/foo/', true],
    ['/foo', '/foo/bar', true],
    ['/foo', '/foobar', false],
    ['/foo', '/fo', false],
    ['/foo', '/FOO', false],
    ['/foo/', '/foo', true],
    ['/foo/', '/foo/bar', true],
    ['/foo/', '/foobar', false],
    ['/foo/bar', '/foo/bar/baz', true],
    ['/foo/bar', '/foo/baz', false],
    ['/', '/', true],
    ['/', '/anything/at/all', true],
  ];
  for (const [prefix, path, want] of prefixCases) {
    it(`PathPrefix ${prefix} ${want ? 'matches' : 'does not match'} ${path}`, () => {
      assert.equal(matchesPath('PathPrefix', prefix, path), want);
    });
  }

  it('Exact is exact, trailing slash and case included', () => {
    assert.equal(matchesPath('Exact', '/foo', '/foo'), true);
    assert.equal(matchesPath('Exact', '/foo', '/foo/'), false);
    assert.equal(matchesPath('Exact', '/foo', '/Foo'), false);
  });

  it('RegularExpression must match the whole path', () => {
    assert.equal(matchesPath('RegularExpression', '/api/v[0-9]+', '/api/v12'), true);
    assert.equal(matchesPath('RegularExpression', '/api/v[0-9]+', '/api/v12/items'), false);
    assert.equal(matchesPath('RegularExpression', '/api/v[0-9]+', '/x/api/v12'), false);
    // Alternation is anchored as a whole: `a|ab` fully matches "ab".
    assert.equal(matchesPath('RegularExpression', '/a|/ab', '/ab'), true);
  });

  it('a rule without matches, or a match without path, matches PathPrefix /', () => {
    const t = table({ name: 'r', rules: [{}] });
    assert.equal(t.match(request('/any/path'))?.pathMatch.type, 'PathPrefix');
    assert.equal(t.match(request('/any/path'))?.pathMatch.value, '/');
    assert.ok(table({ name: 'r', rules: [{ matches: [{ method: 'GET' }] }] }).match(request('/x')));
  });
});

describe('header, query and method matching', () => {
  const headerTable = table({
    name: 'r',
    rules: [{ matches: [{ headers: [{ name: 'X-Env', value: 'Canary' }, { type: 'RegularExpression', name: 'x-user', value: 'u[0-9]+' }] }] }],
  });

  it('header names are case-insensitive, values case-sensitive', () => {
    assert.ok(headerTable.match(request('/', { headers: { 'x-env': 'Canary', 'x-user': 'u1' } })));
    assert.equal(headerTable.match(request('/', { headers: { 'x-env': 'canary', 'x-user': 'u1' } })), undefined);
  });

  it('header regex is a full match; absent headers do not match', () => {
    assert.equal(headerTable.match(request('/', { headers: { 'x-env': 'Canary', 'x-user': 'u1x' } })), undefined);
    assert.equal(headerTable.match(request('/', { headers: { 'x-env': 'Canary' } })), undefined);
  });

  it('a header given several times is matched as the values joined with ","', () => {
    const t = table({ name: 'r', rules: [{ matches: [{ headers: [{ name: 'x-tag', value: 'a,b' }] }] }] });
    assert.ok(t.match(request('/', { headers: { 'x-tag': ['a', 'b'] } })));
    assert.equal(t.match(request('/', { headers: { 'x-tag': ['a'] } })), undefined);
  });

  const queryTable = table({
    name: 'r',
    rules: [{ matches: [{ queryParams: [{ name: 'tier', value: 'gold' }, { type: 'RegularExpression', name: 'id', value: '[0-9]{1,3}' }] }] }],
  });

  it('query params: exact and regex values, case-sensitive names, any order', () => {
    assert.ok(queryTable.match(request('/', { query: 'id=42&tier=gold' })));
    assert.equal(queryTable.match(request('/', { query: 'TIER=gold&id=42' })), undefined);
    assert.equal(queryTable.match(request('/', { query: 'tier=gold&id=4242' })), undefined);
    assert.equal(queryTable.match(request('/', { query: 'tier=gold' })), undefined);
    assert.equal(queryTable.match(request('/', { query: '' })), undefined);
  });

  it('query params: the first occurrence counts; values are percent-decoded; malformed escapes do not throw', () => {
    assert.ok(queryTable.match(request('/', { query: 'tier=gold&tier=silver&id=1' })));
    assert.equal(queryTable.match(request('/', { query: 'tier=silver&tier=gold&id=1' })), undefined);
    assert.ok(queryTable.match(request('/', { query: 't%69er=g%6Fld&id=1' })));
    assert.equal(queryTable.match(request('/', { query: 'tier=%zz&id=1' })), undefined);
  });

  it('the query is parsed only when a rule with query matches is reached, and then once', () => {
    let reads = 0;
    const counting = (path: string, headers: RequestView['headers'] = {}): RequestView => ({
      method: 'GET',
      path,
      headers,
      get query() {
        reads++;
        return 'a=1';
      },
    });
    const t = table({
      name: 'r',
      rules: [
        { matches: [{ path: { type: 'Exact', value: '/exact' } }] },
        { matches: [{ path: { value: '/q' }, queryParams: [{ name: 'a', value: '2' }] }] },
        { matches: [{ path: { value: '/q' }, queryParams: [{ name: 'a', value: '1' }], headers: [{ name: 'h', value: '1' }] }] },
        { matches: [{ path: { value: '/q' }, queryParams: [{ name: 'a', value: '1' }] }] },
      ],
    });
    assert.equal(t.match(counting('/exact'))?.ruleIndex, 0);
    assert.equal(reads, 0);
    assert.equal(t.match(counting('/other')), undefined);
    assert.equal(reads, 0);
    assert.equal(t.match(counting('/q'))?.ruleIndex, 3);
    assert.equal(reads, 1);
    assert.equal(table({ name: 'r', rules: [{}] }).match(counting('/q'))?.ruleIndex, 0);
    assert.equal(reads, 1);
  });

  it('method must equal the request method', () => {
    const t = table({ name: 'r', rules: [{ matches: [{ method: 'POST' }] }] });
    assert.ok(t.match(request('/', { method: 'POST' })));
    assert.equal(t.match(request('/', { method: 'GET' })), undefined);
  });
});

describe('attachment to Services', () => {
  it('a parentRef port restricts the route to requests on that port', () => {
    const t = table({ name: 'r', parentRefs: [{ name: 'catalog', port: 8080 }], rules: [{}] });
    assert.ok(t.match(request('/', { port: 8080 })));
    assert.equal(t.match(request('/', { port: 9090 })), undefined);
    assert.equal(t.match(request('/')), undefined);
    assert.equal(t.appliesTo(8080), true);
    assert.equal(t.appliesTo(9090), false);
    assert.equal(t.appliesTo(undefined), false);
  });

  it('parentRefs to the same Service combine; one without a port covers every port', () => {
    const two = table({ name: 'r', parentRefs: [{ name: 'catalog', port: 80 }, { name: 'catalog', port: 8080 }], rules: [{}] });
    assert.ok(two.match(request('/', { port: 80 })) && two.match(request('/', { port: 8080 })));
    assert.equal(two.rules.length, 1);
    const all = table({ name: 'r', parentRefs: [{ name: 'catalog', port: 80 }, { name: 'catalog' }], rules: [{}] });
    assert.ok(all.match(request('/', { port: 9999 })));
    assert.equal(all.appliesTo(undefined), true);
  });

  it('port-specific and port-less routes on one Service each keep their own ports', () => {
    const t = table(
      { name: 'a', parentRefs: [{ name: 'catalog', port: 8080 }], rules: [{ matches: [{ path: { value: '/x' } }] }] },
      { name: 'b', rules: [{}] },
    );
    assert.equal(t.match(request('/x', { port: 8080 }))?.route.name, 'a');
    assert.equal(t.match(request('/x', { port: 80 }))?.route.name, 'b');
  });

  it('parentRef namespace defaults to the route namespace; one route can attach to several Services', () => {
    const tables = compileRouteTables([
      route({ name: 'r', namespace: 'web', parentRefs: [{ name: 'catalog' }, { name: 'cart', namespace: 'shop' }], rules: [{}] }),
    ]);
    assert.deepEqual([...tables.keys()].sort(), ['cart.shop', 'catalog.web']);
  });

  it('hostnames are ignored for Service parents (GAMMA)', () => {
    const t = table({ name: 'r', hostnames: ['example.com'], rules: [{}] });
    assert.ok(t.match(request('/')));
  });

  it('a route with no rules still attaches: the table exists and matches nothing (404)', () => {
    const t = table({ name: 'r', rules: [] });
    assert.equal(t.match(request('/')), undefined);
    assert.equal(t.appliesTo(80), true);
  });
});

describe('compiled rules', () => {
  it('carry the rule name, filters, timeouts, retry and resolved backends', () => {
    const t = table({
      name: 'r',
      rules: [
        {
          name: 'main',
          matches: [{ path: { value: '/api/' } }],
          filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x', value: '1' }] } }],
          backendRefs: [{ name: 'catalog-v2', port: 8080, weight: 3 }, { name: 'catalog', namespace: 'legacy' }],
          timeouts: { request: '10s', backendRequest: '2s' },
          retry: { attempts: 2, codes: [503] },
        },
      ],
    });
    const rule = t.match(request('/api/items'));
    assert.ok(rule);
    assert.equal(rule.ruleName, 'main');
    assert.deepEqual(rule.pathMatch, { type: 'PathPrefix', value: '/api/' });
    assert.deepEqual(rule.timeouts, { requestMs: 10_000, backendRequestMs: 2_000 });
    assert.deepEqual(rule.retry, { attempts: 2, codes: [503] });
    assert.equal(rule.filters[0]?.type, 'RequestHeaderModifier');
    assert.deepEqual(rule.backends.all, [
      { service: 'catalog-v2', namespace: 'shop', port: 8080, weight: 3, filters: [] },
      { service: 'catalog', namespace: 'legacy', weight: 1, filters: [] },
    ]);
    assert.equal(rule.backends.totalWeight, 4);
  });

  it('a rule without timeouts, retry or name has none', () => {
    const rule = table({ name: 'r', rules: [{}] }).match(request('/'));
    assert.ok(rule);
    assert.deepEqual(rule.timeouts, {});
    assert.equal('retry' in rule, false);
    assert.equal('ruleName' in rule, false);
    assert.equal(rule.backends.pick(Math.random), undefined);
  });
});

describe('compile errors', () => {
  const cases: [string, RouteInit, RegExp][] = [
    ['an invalid path regex', { name: 'r', rules: [{ matches: [{ path: { type: 'RegularExpression', value: '/(' } }] }] }, /spec\.rules\[0\]\.matches\[0\]\.path\.value: invalid regular expression/],
    ['a regex that is only valid once wrapped', { name: 'r', rules: [{ matches: [{ path: { type: 'RegularExpression', value: 'a)|(?:b' } }] }] }, /invalid regular expression/],
    ['a catastrophic header regex', { name: 'r', rules: [{ matches: [{}, { headers: [{ type: 'RegularExpression', name: 'x', value: '(a+)+' }] }] }] }, /matches\[1\]\.headers\[0\]\.value: .*backtrack/],
    ['an invalid query regex', { name: 'r', rules: [{}, { matches: [{ queryParams: [{ type: 'RegularExpression', name: 'q', value: '[' }] }] }] }, /spec\.rules\[1\]\.matches\[0\]\.queryParams\[0\]\.value/],
    [
      'RequestRedirect with URLRewrite',
      { name: 'r', rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }, { type: 'URLRewrite', urlRewrite: { hostname: 'x' } }] }] },
      /cannot be used together/,
    ],
    [
      'ReplacePrefixMatch on a rule with an Exact match',
      {
        name: 'r',
        rules: [
          {
            matches: [{ path: { type: 'Exact', value: '/a' } }],
            backendRefs: [{ name: 'b', filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }] }],
          },
        ],
      },
      /backendRefs\[0\]\.filters: ReplacePrefixMatch/,
    ],
  ];
  for (const [name, init, message] of cases) {
    it(`rejects ${name}`, () => {
      assert.throws(() => compileRouteTables([route(init)]), (error: unknown) => error instanceof RouteCompileError && message.test(error.message));
    });
  }
});
