/**
 * Micro-benchmark of RouteTable.match: ns per match on a table of 50 rules with mixed matchers, over a mix of
 * requests that hit exact, prefix, regex, header, query and method rules, fall through to the catch-all, or miss.
 * Run: `npx node sidecar/routing/bench.ts` (about 1 s). Not a test: the figure depends on the machine.
 */
import { route } from './route-fixtures.ts';
import type { RouteInit } from './route-fixtures.ts';
import { compileRouteTables } from './route-table.ts';
import type { RequestView } from './route-table.ts';

type Rules = NonNullable<RouteInit['rules']>;

function buildRoutes(): RouteInit[] {
  const exact: Rules = Array.from({ length: 10 }, (_, i) => ({ matches: [{ path: { type: 'Exact', value: `/exact/${i}` } }] }));
  const prefixes: Rules = Array.from({ length: 18 }, (_, i) => ({
    matches: [{ path: { value: `/svc${i % 6}/${'seg/'.repeat(Math.floor(i / 6))}items` } }],
  }));
  const regexes: Rules = Array.from({ length: 5 }, (_, i) => ({
    matches: [{ path: { type: 'RegularExpression', value: `/api/v${i}/[a-z]+/[0-9]+` } }],
  }));
  const headers: Rules = Array.from({ length: 8 }, (_, i) => ({
    matches: [{ path: { value: '/shop' }, headers: [{ name: 'x-tenant', value: `t${i}` }, { type: 'RegularExpression', name: 'x-user', value: 'u[0-9]{1,6}' }] }],
  }));
  const queries: Rules = Array.from({ length: 4 }, (_, i) => ({
    matches: [{ path: { value: '/search' }, queryParams: [{ name: 'tier', value: `gold${i}` }] }],
  }));
  const methods: Rules = (['POST', 'PUT', 'DELETE', 'PATCH'] as const).map((method) => ({ matches: [{ path: { value: '/orders' }, method }] }));
  const catchAll: Rules = [{ matches: [{ path: { value: '/' } }] }];
  const all = [...exact, ...prefixes, ...regexes, ...headers, ...queries, ...methods, ...catchAll];
  if (all.length !== 50) throw new Error(`expected 50 rules, built ${all.length}`);
  return [0, 1, 2, 3, 4].map((i) => ({ name: `route-${i}`, rules: all.slice(i * 10, i * 10 + 10) }));
}

const table = compileRouteTables(buildRoutes().map(route)).get('catalog.shop');
if (table === undefined) throw new Error('no table');

const headers = { host: 'catalog.shop', 'user-agent': 'bench', accept: '*/*', 'x-tenant': 't5', 'x-user': 'u12345' };
const requests: RequestView[] = [
  { method: 'GET', path: '/exact/7', query: '', headers },
  { method: 'GET', path: '/svc3/seg/items/42', query: 'a=1', headers },
  { method: 'GET', path: '/api/v3/books/123', query: '', headers },
  { method: 'GET', path: '/shop/cart', query: '', headers },
  { method: 'GET', path: '/search', query: 'q=boots&page=2&tier=gold2', headers },
  { method: 'DELETE', path: '/orders/9', query: '', headers },
  { method: 'GET', path: '/unknown/path/falls/through', query: 'x=y', headers },
  { method: 'GET', path: '/search', query: 'q=nothing', headers },
];

function run(iterations: number): number {
  let hits = 0;
  for (let i = 0; i < iterations; i++) {
    const req = requests[i & 7];
    if (req !== undefined && table?.match(req) !== undefined) hits++;
  }
  return hits;
}

const benchStart = process.hrtime.bigint();
run(100_000); // warm up
const perRequest: string[] = [];
for (const req of requests) {
  const n = 100_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) table.match(req);
  const ns = Number(process.hrtime.bigint() - start) / n;
  const rule = table.match(req);
  perRequest.push(`  ${ns.toFixed(0).padStart(5)} ns  ${req.method} ${req.path}${req.query === '' ? '' : `?${req.query}`} → ${rule === undefined ? 'no match' : `${rule.route.name} rule ${rule.ruleIndex}`}`);
}
const iterations = 1_000_000;
const start = process.hrtime.bigint();
const hits = run(iterations);
const mixNs = Number(process.hrtime.bigint() - start) / iterations;

console.log(`RouteTable.match, 50 rules, mixed matchers: ${mixNs.toFixed(0)} ns/match over the mix (${hits} hits of ${iterations})`);
console.log(perRequest.join('\n'));
console.log(`(benchmark ran ${(Number(process.hrtime.bigint() - benchStart) / 1e9).toFixed(2)} s)`);
