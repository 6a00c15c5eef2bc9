import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { MemberStatusRow } from '../../mesh/member-status.ts';
import { formatServices, formatStatusTable, membersUrl, stateUrl, statusCommand, type StatusBody, type StatusService } from './status.ts';

async function run(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await statusCommand.run(args, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

function row(fields: Partial<MemberStatusRow> & Pick<MemberStatusRow, 'name'>): MemberStatusRow {
  return {
    role: 'sidecar',
    status: 'alive',
    gossipAddress: '10.0.0.1:7946',
    service: undefined,
    address: undefined,
    zone: undefined,
    configVersion: 12,
    configHash: '3f9a1c2b4d5e6f70',
    sync: 'synced',
    error: undefined,
    api: undefined,
    ...fields,
  };
}

const SAMPLE: StatusBody = {
  newest: { version: 12, hash: '3f9a1c2b4d5e6f70' },
  members: [
    row({ name: 'cp-0', role: 'control-plane', zone: 'a', api: '10.0.0.9:15080' }),
    row({ name: 'catalog-1', service: 'catalog.shop', address: '10.0.0.2:15006', zone: 'a' }),
    row({ name: 'catalog-2', service: 'catalog.shop', address: '10.0.0.3:15006', zone: 'b', configVersion: 11, configHash: '0a1b2c3d4e5f6a7b', sync: 'stale' }),
    row({ name: 'frontend-1', service: 'frontend.shop', address: '10.0.0.4:15006', zone: 'b', configVersion: 11, configHash: '0a1b2c3d4e5f6a7b', sync: 'rejected', error: 'snapshot v12: signature does not verify with any trusted key' }),
    row({ name: 'frontend-2', status: 'suspect', service: 'frontend.shop', address: '10.0.0.5:15006' }),
    row({ name: 'reviews-1', service: 'reviews.shop', address: '10.0.0.6:15006', configVersion: 0, configHash: '', sync: 'none' }),
  ],
};

const SAMPLE_TABLE = `NAME         ROLE            STATE     SERVICE         ADDRESS          ZONE   CONFIG         SYNC
cp-0         control-plane   alive     -               -                a      v12 3f9a1c2b   synced
catalog-1    sidecar         alive     catalog.shop    10.0.0.2:15006   a      v12 3f9a1c2b   synced
catalog-2    sidecar         alive     catalog.shop    10.0.0.3:15006   b      v11 0a1b2c3d   stale
frontend-1   sidecar         alive     frontend.shop   10.0.0.4:15006   b      v11 0a1b2c3d   rejected
frontend-2   sidecar         suspect   frontend.shop   10.0.0.5:15006   -      v12 3f9a1c2b   synced
reviews-1    sidecar         alive     reviews.shop    10.0.0.6:15006   -      -              none

frontend-1 rejected a newer config (it still runs v11 0a1b2c3d): snapshot v12: signature does not verify with any trusted key

6 members: 3 synced, 1 stale, 1 rejected, 1 without config; 1 suspect; newest config v12`;

function signals(rps: number, successRate: number | null, p50Ms: number, p95Ms: number, p99Ms: number, replicas = 1): StatusService['windows']['stable'] {
  return { windowSeconds: 60, replicas, requests: successRate === null ? 0 : Math.round(rps * 60), rps, successRate, p50Ms, p95Ms, p99Ms };
}

/** The Services of a `GET /dashboard/api/state` reply. */
const SERVICES: StatusService[] = [
  {
    service: 'catalog.shop',
    sidecars: { alive: 2, total: 2 },
    windows: { stable: signals(12.5, 0.9876, 4.8, 48, 120, 2) },
    ejectedEndpoints: [{ address: '10.0.0.3:15006', members: ['frontend-1', 'frontend-2'] }],
    circuits: { 'frontend-1': 'closed', 'frontend-2': 'open' },
  },
  { service: 'frontend.shop', sidecars: { alive: 2, total: 2 }, windows: { stable: signals(3.25, 1, 12, 250, 1500, 2) }, ejectedEndpoints: [], circuits: {} },
  { service: 'payments.shop', sidecars: { alive: 0, total: 0 }, windows: { stable: null }, ejectedEndpoints: [], circuits: { 'frontend-1': 'half-open' } },
  // An older control plane's Service: no health fields.
  { service: 'reviews.shop', sidecars: { alive: 1, total: 1 }, windows: { stable: signals(0, null, 0, 0, 0) } },
];

const SERVICES_TABLE = `SERVICE         REPLICAS   RPS    SUCCESS   P50     P95     P99
catalog.shop    2/2        12.5   98.76%    4.8ms   48ms    120ms
frontend.shop   2/2        3.25   100.00%   12ms    250ms   1.50s
payments.shop   0/0        -      -         -       -       -
reviews.shop    1/1        0.00   -         -       -       -

catalog.shop: endpoint 10.0.0.3:15006 ejected by frontend-1, frontend-2
catalog.shop: circuit open in frontend-2
payments.shop: circuit half-open in frontend-1

4 Services over the last 60 s; 3 health warnings`;

describe('formatStatusTable', () => {
  it('prints a row per member, a line per rejection and a summary', () => {
    assert.equal(formatStatusTable(SAMPLE), SAMPLE_TABLE);
  });

  it('reads a body whose undefined fields were dropped by JSON', () => {
    const body = JSON.parse(JSON.stringify(SAMPLE)) as StatusBody;
    assert.equal(formatStatusTable(body), SAMPLE_TABLE);
  });

  it('summarises an all-synced mesh as the example does', () => {
    const members = Array.from({ length: 21 }, (_, i) => row({ name: `m-${String(i).padStart(2, '0')}`, sync: i === 20 ? 'stale' : 'synced' }));
    const table = formatStatusTable({ newest: { version: 12, hash: '3f9a1c2b4d5e6f70' }, members });
    assert.equal(table.split('\n').at(-1), '21 members: 20 synced, 1 stale; newest config v12');
  });

  it('handles an empty mesh, a mesh without config and the control plane\'s policy error', () => {
    assert.equal(formatStatusTable({ newest: { version: 0, hash: '' }, members: [] }), '0 members; no config yet');
    const table = formatStatusTable({
      newest: { version: 0, hash: '' },
      members: [row({ name: 'cp-0', role: 'control-plane', configVersion: 0, configHash: '', sync: 'none' })],
      reporter: 'cp-0',
      policyError: 'routes.yaml:3:1: spec: required\nroutes.yaml:9:5: kind: unknown kind',
    });
    assert.deepEqual(table.split('\n').slice(2), [
      '',
      'cp-0: the policy files do not build; the last good config keeps serving:',
      '  routes.yaml:3:1: spec: required',
      '  routes.yaml:9:5: kind: unknown kind',
      '',
      '1 member: 1 without config; no config yet',
    ]);
  });
});

describe('formatServices', () => {
  it('prints a row per Service, then ejections and circuits not closed', () => {
    assert.equal(formatStatusTable(SAMPLE, { services: SERVICES }), `${SAMPLE_TABLE}\n\n${SERVICES_TABLE}`);
    assert.equal(formatStatusTable(SAMPLE), SAMPLE_TABLE, 'without a section, the members alone');
  });

  it('says why there are no Services to show', () => {
    assert.deepEqual(formatServices({ services: [] }), ['no Services yet: no sidecar has joined or reported']);
    assert.deepEqual(formatServices({ unavailable: 'x: HTTP 404' }), ['services not shown: x: HTTP 404']);
  });
});

describe('membersUrl', () => {
  it('appends /members to the base URL, keeping a path prefix', () => {
    assert.equal(stateUrl('http://127.0.0.1:15080/cp/'), 'http://127.0.0.1:15080/cp/dashboard/api/state');
    assert.equal(membersUrl('http://127.0.0.1:15080'), 'http://127.0.0.1:15080/members');
    assert.equal(membersUrl('http://127.0.0.1:15080/'), 'http://127.0.0.1:15080/members');
    assert.equal(membersUrl('https://mesh.example/cp/'), 'https://mesh.example/cp/members');
    assert.throws(() => membersUrl('127.0.0.1:15080'), /--url must be an http:\/\/ or https:\/\/ URL/);
    assert.throws(() => membersUrl('ftp://x'), /--url must be an http:\/\/ or https:\/\/ URL/);
  });
});

describe('outrigger status', () => {
  let server: Server;
  let base = '';
  let closedPort = 0;
  const requests: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      if (req.url === '/members' || req.url === '/old/members') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(SAMPLE));
      } else if (req.url === '/dashboard/api/state') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ reporter: 'cp-0', members: [], services: SERVICES }));
      } else if (req.url === '/garbled/members') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(SAMPLE));
      } else if (req.url === '/garbled/dashboard/api/state') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ services: 'nope' }));
      } else if (req.url === '/broken/members') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'memberlist not started' }));
      } else if (req.url === '/html/members') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>hello</html>');
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `no such path ${req.url}` }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('fetches /members and the dashboard state, and prints both tables', async () => {
    const { code, out, err } = await run('--url', base);
    assert.equal(code, 0, err.join('\n'));
    assert.deepEqual(err, []);
    assert.equal(out.join('\n'), `${SAMPLE_TABLE}\n\n${SERVICES_TABLE}`);
    assert.deepEqual(requests.slice(-2).sort(), ['GET /dashboard/api/state', 'GET /members']);
  });

  it('prints the members alone with a note when the control plane has no state endpoint or a bad one', async () => {
    const old = await run('--url', `${base}/old`);
    assert.equal(old.code, 0);
    assert.deepEqual(old.err, []);
    assert.equal(old.out.join('\n'), `${SAMPLE_TABLE}\n\nservices not shown: ${base}/old/dashboard/api/state answers 404 (a control plane older than this command?)`);
    const garbled = await run('--url', `${base}/garbled`, '--json');
    assert.equal(garbled.code, 0);
    assert.deepEqual(JSON.parse(garbled.out.join('\n')), { members: JSON.parse(JSON.stringify(SAMPLE)) as unknown, services: null });
  });

  it('takes the URL from OUTRIGGER_STATUS_URL', async () => {
    const previous = process.env.OUTRIGGER_STATUS_URL;
    process.env.OUTRIGGER_STATUS_URL = `${base}/`;
    try {
      const { code, out } = await run();
      assert.equal(code, 0);
      assert.equal(out.join('\n'), `${SAMPLE_TABLE}\n\n${SERVICES_TABLE}`);
    } finally {
      if (previous === undefined) delete process.env.OUTRIGGER_STATUS_URL;
      else process.env.OUTRIGGER_STATUS_URL = previous;
    }
  });

  it('prints both bodies as received with --json', async () => {
    const { code, out } = await run('--url', base, '--json');
    assert.equal(code, 0);
    assert.equal(out.join('\n'), JSON.stringify({ members: SAMPLE, services: SERVICES }, null, 2));
  });

  it('exits 1 with one line when nothing listens', async () => {
    const url = `http://127.0.0.1:${closedPort}`;
    const { code, out, err } = await run('--url', url);
    assert.equal(code, 1);
    assert.deepEqual(out, []);
    assert.deepEqual(err, [`outrigger status: cannot reach the control plane at ${url}/members: connect ECONNREFUSED 127.0.0.1:${closedPort}`]);
  });

  it('exits 1 on a 500, a 404 or a reply that is not a member list', async () => {
    const failed = await run('--url', `${base}/broken`);
    assert.equal(failed.code, 1);
    assert.deepEqual(failed.out, []);
    assert.deepEqual(failed.err, [`outrigger status: cannot reach the control plane at ${base}/broken/members: HTTP 500 Internal Server Error: memberlist not started`]);

    const missing = await run('--url', `${base}/nope`);
    assert.equal(missing.code, 1);
    assert.match(missing.err[0] ?? '', /: HTTP 404 Not Found: no such path \/nope\/members \(is the URL a control plane's API address\?\)$/);

    const html = await run('--url', `${base}/html`);
    assert.equal(html.code, 1);
    assert.match(html.err[0] ?? '', /: the reply is not JSON: <html>hello<\/html>$/);
    assert.equal(html.err.length, 1);
  });

  it('prints usage with --help and exits 2 for bad flags, URLs and --watch values', async () => {
    const help = await run('--help');
    assert.equal(help.code, 0);
    const usage = help.out.join('\n');
    assert.match(usage, /^outrigger status \[--url URL\] \[--json\] \[--watch SECONDS\]/);
    for (const text of ['OUTRIGGER_STATUS_URL', 'http://127.0.0.1:15080', 'SYNC', 'rejected']) assert.ok(usage.includes(text), text);

    const count = requests.length;
    for (const value of ['0', 'abc', '-1', '', 'Infinity']) {
      const { code, out, err } = await run('--url', base, `--watch=${value}`);
      assert.equal(code, 2, value);
      assert.deepEqual(out, []);
      assert.equal(err[0], `outrigger status: --watch must be a number of seconds above 0, got "${value}"`);
    }
    const bareWatch = await run('--url', base, '--watch');
    assert.equal(bareWatch.code, 2);
    assert.match(bareWatch.err[0] ?? '', /^outrigger status: Option '--watch <value>' argument missing/);

    const badUrl = await run('--url', 'localhost:15080');
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.err[0] ?? '', /^outrigger status: --url must be an http:\/\/ or https:\/\/ URL/);

    const unknown = await run('--frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.err[0] ?? '', /^outrigger status: Unknown option '--frobnicate'/);
    assert.equal(requests.length, count, 'no request for an invalid invocation');
  });
});
