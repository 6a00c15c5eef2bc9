import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { prefixMatches, normalizePrefix } from './path-prefix.ts';
import { parseQueryFirst } from './query.ts';
import { matchesQuery, matchesWithoutQuery } from './request-match.ts';
import { route } from './route-fixtures.ts';
import { compileRouteTables } from './route-table.ts';
import type { CompiledRule, RequestView, RouteTable } from './route-table.ts';
import { parseAuthority } from './service-key.ts';

const SEGMENTS = ['', 'foo', 'bar', 'api', 'v1', 'x', 'FOO', '%2F', '..'];
const NAMES = ['x', 'y', 'x-env', 'tier', 'id', 'a'];

const table: RouteTable = (() => {
  const tables = compileRouteTables([
    route({
      name: 'mixed',
      creationTimestamp: '2024-01-01T00:00:00Z',
      rules: [
        { matches: [{ path: { type: 'Exact', value: '/foo' } }, { path: { type: 'Exact', value: '/foo' }, method: 'POST' }] },
        { matches: [{ path: { type: 'Exact', value: '/api/v1' }, queryParams: [{ name: 'tier', value: 'gold' }] }] },
        { matches: [{ path: { type: 'RegularExpression', value: '/api/v[0-9]+(/.*)?' }, headers: [{ name: 'x-env', value: 'canary' }] }] },
        { matches: [{ path: { value: '/foo/bar' }, queryParams: [{ type: 'RegularExpression', name: 'id', value: '[0-9a-f]{1,8}' }] }] },
        { matches: [{ path: { value: '/foo' }, headers: [{ type: 'RegularExpression', name: 'x', value: '.*1' }, { name: 'y', value: '2' }] }] },
        { matches: [{ path: { type: 'RegularExpression', value: '/foox?/ba[rz]' }, method: 'PUT' }] },
        { matches: [{ path: { type: 'RegularExpression', value: '/(x|api)/.*' }, headers: [{ name: 'y', value: '2' }] }] },
      ],
    }),
    route({
      name: 'ported',
      parentRefs: [{ name: 'catalog', port: 8080 }],
      rules: [{ matches: [{ path: { value: '/x' }, method: 'GET' }, { queryParams: [{ name: 'a', value: '' }] }] }],
    }),
    route({ name: 'fallback', rules: [{ matches: [{ path: { value: '/' } }] }] }),
  ]);
  const found = tables.get('catalog.shop');
  assert.ok(found);
  return found;
})();

const pathArb = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary' }), weight: 1 },
  { arbitrary: fc.array(fc.constantFrom(...SEGMENTS), { maxLength: 5 }).map((segments) => `/${segments.join('/')}`), weight: 2 },
  { arbitrary: fc.constantFrom('/foo', '/foo/', '/foo/bar', '/foo/baz', '/foox/bar', '/x/1', '/foo/bar/x', '/foobar', '/api/v1', '/api/v12/items', '/x', '/x/y'), weight: 5 },
);
const queryArb = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary' }), weight: 1 },
  {
    arbitrary: fc
      .array(fc.tuple(fc.constantFrom(...NAMES, '', '%', '%zz'), fc.option(fc.constantFrom('', 'gold', '1', 'ff', '%E0%A4%A', 'g%6Fld'))), { maxLength: 6 })
      .map((pairs) => pairs.map(([name, value]) => (value === null ? name : `${name}=${value}`)).join('&')),
    weight: 4,
  },
);
const headerValueArb = fc.oneof(
  fc.constant(undefined),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('canary', '1', '21', '2'),
  fc.array(fc.constantFrom('canary', '1', '2', ''), { maxLength: 3 }),
);
const headersArb = fc.dictionary(fc.oneof({ arbitrary: fc.constantFrom(...NAMES), weight: 4 }, { arbitrary: fc.string(), weight: 1 }), headerValueArb);
const requestArb: fc.Arbitrary<RequestView> = fc.record(
  {
    method: fc.constantFrom('GET', 'POST', 'PUT', 'get', ''),
    path: pathArb,
    query: queryArb,
    headers: headersArb,
    port: fc.constantFrom(80, 8080),
  },
  { requiredKeys: ['method', 'path', 'query', 'headers'] },
);

/** The first rule, in precedence order, that matches — evaluated naively, without the table's index or laziness. */
function reference(req: RequestView): CompiledRule | undefined {
  const names = new Set(table.rules.flatMap((rule) => rule.match.queryParams.map((param) => param.name)));
  const query = parseQueryFirst(req.query, names);
  return table.rules.find((rule) => matchesWithoutQuery(rule.match, req) && matchesQuery(rule.match, query));
}

describe('RouteTable.match properties', () => {
  it('never throws, and returns the first matching rule in precedence order', () => {
    fc.assert(
      fc.property(requestArb, (req) => {
        const matched = table.match(req);
        assert.equal(matched, reference(req));
        if (matched !== undefined) assert.ok(table.rules.includes(matched));
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('PathPrefix properties', () => {
  it('matches exactly when the prefix’s path elements begin the path’s elements', () => {
    const pathish = fc.array(fc.constantFrom('', 'a', 'ab', 'b'), { maxLength: 4 }).map((s) => `/${s.join('/')}`);
    fc.assert(
      fc.property(pathish, pathish, (prefixValue, path) => {
        const prefix = normalizePrefix(prefixValue);
        const want = prefix === '' || prefix.split('/').every((segment, i, all) => (i === all.length - 1 ? path.split('/')[i] === segment : path.split('/')[i] === segment));
        assert.equal(prefixMatches(path, prefix), want, `${prefixValue} vs ${path}`);
      }),
    );
  });
});

describe('parseAuthority properties', () => {
  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.string(), (authority, domain) => {
        parseAuthority(authority, 'default', domain);
      }),
    );
  });

  it('every accepted spelling of a Service names the same Service', () => {
    const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
    fc.assert(
      fc.property(label, label, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), (service, namespace, port) => {
        fc.pre(!/^[0-9]+$/.test(service) || !/^[0-9]+$/.test(namespace));
        const suffix = port === undefined ? '' : `:${port}`;
        const want = { service, namespace, port };
        for (const host of [`${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local.`]) {
          assert.deepEqual(parseAuthority(`${host.toUpperCase()}${suffix}`, 'default', 'cluster.local'), want);
        }
      }),
    );
  });
});
