import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { route } from './route-fixtures.ts';
import type { RouteInit } from './route-fixtures.ts';
import { compileRouteTables } from './route-table.ts';
import type { CompiledRule, RequestView } from './route-table.ts';

const CATALOG = [{ name: 'catalog', namespace: 'shop' }];
const T1 = '2024-01-01T00:00:00Z';
const T2 = '2024-06-01T00:00:00Z';

function request(path: string, init: Partial<RequestView> = {}): RequestView {
  return { method: 'GET', path, query: '', headers: {}, ...init };
}

function id(rule: CompiledRule | undefined): string {
  return rule === undefined ? 'none' : `${rule.route.namespace}/${rule.route.name}#${rule.ruleIndex}.${rule.matchIndex}`;
}

function r(name: string, rules: RouteInit['rules'], extra: Partial<RouteInit> = {}): RouteInit {
  return { name, rules, parentRefs: CATALOG, ...extra };
}

interface Case {
  name: string;
  routes: RouteInit[];
  req: RequestView;
  want: string;
}

const cases: Case[] = [
  {
    name: 'Exact beats PathPrefix of the same value (spec example)',
    routes: [r('a', [{ matches: [{ path: { type: 'PathPrefix', value: '/foo' } }] }]), r('b', [{ matches: [{ path: { type: 'Exact', value: '/foo' } }] }])],
    req: request('/foo'),
    want: 'shop/b#0.0',
  },
  {
    name: 'Exact beats a prefix match that has a method and headers',
    routes: [
      r('a', [{ matches: [{ path: { value: '/foo' }, method: 'GET', headers: [{ name: 'x', value: '1' }] }] }]),
      r('b', [{ matches: [{ path: { type: 'Exact', value: '/foo' } }] }]),
    ],
    req: request('/foo', { headers: { x: '1' } }),
    want: 'shop/b#0.0',
  },
  {
    name: 'the longest PathPrefix wins',
    routes: [r('a', [{ matches: [{ path: { value: '/' } }, { path: { value: '/foo/bar' } }, { path: { value: '/foo' } }] }])],
    req: request('/foo/bar/baz'),
    want: 'shop/a#0.1',
  },
  {
    name: 'a trailing slash does not make a prefix longer: tie goes to the older route',
    routes: [
      r('a', [{ matches: [{ path: { value: '/foo/' } }] }], { creationTimestamp: T2 }),
      r('b', [{ matches: [{ path: { value: '/foo' } }] }], { creationTimestamp: T1 }),
    ],
    req: request('/foo/x'),
    want: 'shop/b#0.0',
  },
  {
    name: 'PathPrefix is element-wise: /foo does not match /foobar',
    routes: [r('a', [{ matches: [{ path: { value: '/foo' } }] }, { matches: [{ path: { value: '/' } }] }])],
    req: request('/foobar'),
    want: 'shop/a#1.0',
  },
  {
    name: 'a regex outranks every PathPrefix, even a longer one (Envoy Gateway order)',
    routes: [r('a', [{ matches: [{ path: { value: '/very/long/prefix/value' } }] }, { matches: [{ path: { type: 'RegularExpression', value: '/.*' } }] }])],
    req: request('/very/long/prefix/value/x'),
    want: 'shop/a#1.0',
  },
  {
    name: 'the longer regex wins',
    routes: [
      r('a', [{ matches: [{ path: { type: 'RegularExpression', value: '/.*' } }] }]),
      r('b', [{ matches: [{ path: { type: 'RegularExpression', value: '/api/v[0-9]+/.*' } }] }]),
    ],
    req: request('/api/v2/items'),
    want: 'shop/b#0.0',
  },
  {
    name: 'Exact beats a regex',
    routes: [r('a', [{ matches: [{ path: { type: 'RegularExpression', value: '/api/.*' } }] }, { matches: [{ path: { type: 'Exact', value: '/api/x' } }] }])],
    req: request('/api/x'),
    want: 'shop/a#1.0',
  },
  {
    name: 'a method match beats none',
    routes: [r('a', [{ matches: [{ path: { value: '/foo' } }] }, { matches: [{ path: { value: '/foo' }, method: 'POST' }] }])],
    req: request('/foo', { method: 'POST' }),
    want: 'shop/a#1.0',
  },
  {
    name: 'a method match beats more header matches',
    routes: [
      r('a', [
        { matches: [{ headers: [{ name: 'x', value: '1' }, { name: 'y', value: '2' }] }] },
        { matches: [{ method: 'GET' }] },
      ]),
    ],
    req: request('/', { headers: { x: '1', y: '2' } }),
    want: 'shop/a#1.0',
  },
  {
    name: 'more header matches win',
    routes: [
      r('a', [
        { matches: [{ headers: [{ name: 'x', value: '1' }] }] },
        { matches: [{ headers: [{ name: 'x', value: '1' }, { name: 'y', value: '2' }] }] },
      ]),
    ],
    req: request('/', { headers: { x: '1', y: '2' } }),
    want: 'shop/a#1.0',
  },
  {
    name: 'a header match beats more query matches',
    routes: [
      r('a', [
        { matches: [{ queryParams: [{ name: 'a', value: '1' }, { name: 'b', value: '2' }] }] },
        { matches: [{ headers: [{ name: 'x', value: '1' }] }] },
      ]),
    ],
    req: request('/', { query: 'a=1&b=2', headers: { x: '1' } }),
    want: 'shop/a#1.0',
  },
  {
    name: 'more query param matches win',
    routes: [
      r('a', [
        { matches: [{ queryParams: [{ name: 'a', value: '1' }] }] },
        { matches: [{ queryParams: [{ name: 'a', value: '1' }, { name: 'b', value: '2' }] }] },
      ]),
    ],
    req: request('/', { query: 'a=1&b=2' }),
    want: 'shop/a#1.0',
  },
  {
    name: 'on a full tie the oldest route wins, whatever its name',
    routes: [r('aaa', [{}], { creationTimestamp: T2 }), r('zzz', [{}], { creationTimestamp: T1 })],
    req: request('/x'),
    want: 'shop/zzz#0.0',
  },
  {
    name: 'a route without creationTimestamp sorts after one with it',
    routes: [r('aaa', [{}]), r('zzz', [{}], { creationTimestamp: T2 })],
    req: request('/x'),
    want: 'shop/zzz#0.0',
  },
  {
    name: 'same creation time: alphabetical namespace/name',
    routes: [r('a', [{}], { namespace: 'web', creationTimestamp: T1 }), r('z', [{}], { namespace: 'api', creationTimestamp: T1 })],
    req: request('/x'),
    want: 'api/z#0.0',
  },
  {
    name: 'timestamps compare as instants, not strings',
    routes: [
      r('a', [{}], { creationTimestamp: '2024-01-01T01:00:00+02:00' }),
      r('b', [{}], { creationTimestamp: '2024-01-01T00:00:00Z' }),
    ],
    req: request('/x'),
    want: 'shop/a#0.0',
  },
  {
    name: 'within a route, the first rule wins a tie',
    routes: [r('a', [{ matches: [{ path: { value: '/x' } }] }, { matches: [{ path: { value: '/x' } }] }])],
    req: request('/x'),
    want: 'shop/a#0.0',
  },
  {
    name: 'a later rule with a more specific match beats an earlier rule',
    routes: [r('a', [{ matches: [{ path: { value: '/' } }] }, { matches: [{ path: { value: '/x' } }] }])],
    req: request('/x/y'),
    want: 'shop/a#1.0',
  },
  {
    name: 'within a rule, the first of equal matches wins',
    routes: [r('a', [{ matches: [{ headers: [{ name: 'x', value: '1' }] }, { headers: [{ name: 'y', value: '2' }] }] }])],
    req: request('/', { headers: { x: '1', y: '2' } }),
    want: 'shop/a#0.0',
  },
  {
    name: 'specificity beats age: a newer route with a method beats an older one without',
    routes: [r('old', [{}], { creationTimestamp: T1 }), r('new', [{ matches: [{ method: 'GET' }] }], { creationTimestamp: T2 })],
    req: request('/'),
    want: 'shop/new#0.0',
  },
  {
    name: 'a higher-ranked rule that does not match falls through to the next',
    routes: [r('a', [{ matches: [{ path: { type: 'Exact', value: '/x' }, method: 'DELETE' }] }, { matches: [{ path: { value: '/x' } }] }])],
    req: request('/x'),
    want: 'shop/a#1.0',
  },
  {
    name: 'duplicate header names: only the first entry counts',
    routes: [
      r('a', [
        { matches: [{ headers: [{ name: 'x', value: '1' }, { name: 'X', value: '2' }] }] },
        { matches: [{ headers: [{ name: 'y', value: '1' }] }] },
      ]),
    ],
    req: request('/', { headers: { x: '1', y: '1' } }),
    want: 'shop/a#0.0',
  },
];

describe('precedence across all rules of all routes attached to a Service', () => {
  for (const c of cases) {
    it(c.name, () => {
      const tables = compileRouteTables(c.routes.map(route));
      const table = tables.get('catalog.shop');
      assert.ok(table, 'table for catalog.shop');
      assert.equal(id(table.match(c.req)), c.want);
      // Compilation must not depend on the order routes arrive in.
      const reversed = compileRouteTables(c.routes.map(route).reverse()).get('catalog.shop');
      assert.equal(id(reversed?.match(c.req)), c.want);
    });
  }
});
