import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { send } from './support/client.ts';
import { sendRaw } from './support/raw-socket.ts';
import { endpointsYaml, startSidecarProcess, writeConfig, type SidecarProcess } from './support/sidecar-process.ts';

/**
 * Broken upstream responses, from a raw TCP upstream that answers each path with a specific kind of broken bytes.
 * Each becomes 502/504 when nothing was sent to the client yet, or a cut client connection (never a silently
 * truncated "complete" response) when the head was already relayed; and the broken upstream connection is never
 * reused: the next request arrives on a new one.
 */

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const SCENARIOS: Record<string, (socket: Socket) => void> = {
  '/ok': (socket) => socket.write(OK),
  '/cl-and-te': (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'),
  '/bad-status-line': (socket) => socket.write('HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nok'),
  '/short-body': (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b'),
  '/extra-bytes': (socket) => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello${'HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nsmuggle'}`),
  '/reset-mid-body': (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial');
    setTimeout(() => socket.resetAndDestroy(), 20);
  },
  '/reset-before-head': (socket) => socket.resetAndDestroy(),
  '/hang': () => undefined,
};

interface BrokenUpstream {
  address: string;
  /** Connection number (1-based) on which each request path arrived, in order. */
  arrivals: { path: string; connection: number }[];
  close(): Promise<void>;
}

async function startBrokenUpstream(): Promise<BrokenUpstream> {
  const arrivals: BrokenUpstream['arrivals'] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    const connection = ++connections;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\r\n\r\n')) !== -1) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        const path = head.split(' ')[1] ?? '/';
        arrivals.push({ path, connection });
        (SCENARIOS[path] ?? SCENARIOS['/ok'])?.(socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: broken }
spec:
  parentRefs: [{ group: "", kind: Service, name: broken }]
  rules:
    - timeouts: { request: 800ms }
`;
// No retries: each broken response must be seen as it is, not hidden by a second attempt.
const POLICY = `apiVersion: outrigger.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: broken }
spec:
  targetRefs: [{ group: "", kind: Service, name: broken }]
  retry: { numRetries: 0 }
`;

describe('broken upstream responses', () => {
  let upstream: BrokenUpstream;
  let sidecar: SidecarProcess;

  before(async () => {
    upstream = await startBrokenUpstream();
    const config = writeConfig({ 'endpoints.yaml': endpointsYaml('broken', [upstream.address]), 'route.yaml': ROUTE, 'policy.yaml': POLICY });
    sidecar = await startSidecarProcess({ service: 'app', app: '127.0.0.1:9', config });
  });

  after(async () => {
    await sidecar?.stop();
    await upstream?.close();
  });

  /** Sends `path`, then `/ok`: the broken connection must not carry the second request. */
  async function brokenThenOk(path: string): Promise<{ status: number; reason: string | undefined; raw: string; closed: boolean }> {
    const reply = await sendRaw(sidecar.outboundPort, [`GET ${path} HTTP/1.1\r\nHost: broken\r\nx-outrigger-debug: 1\r\n\r\n`], 1_200);
    const next = await send(sidecar.outboundPort, { path: '/ok', headers: { host: 'broken' } });
    assert.equal(next.status, 200, 'the next request is served');
    assert.equal(next.body, 'ok', 'the next request gets its own response, not leftover bytes');
    const broken = upstream.arrivals.findLast((a) => a.path === path);
    const ok = upstream.arrivals.findLast((a) => a.path === '/ok');
    assert.ok(broken && ok);
    assert.notEqual(ok.connection, broken.connection, 'the broken upstream connection was not reused');
    return { status: reply.status, reason: reply.headers['x-outrigger-reason'], raw: reply.raw, closed: reply.closed };
  }

  for (const [path, flag] of [['/cl-and-te', 'UPE'], ['/bad-status-line', 'UPE'], ['/reset-before-head', 'UC']] as const) {
    test(`${path.slice(1)}: 502 ${flag}`, async () => {
      const reply = await brokenThenOk(path);
      assert.equal(reply.status, 502, reply.raw);
      assert.equal(reply.reason, flag);
    });
  }

  test('hang: 504 UT at the route timeout', async () => {
    const started = Date.now();
    const reply = await brokenThenOk('/hang');
    assert.equal(reply.status, 504, reply.raw);
    assert.equal(reply.reason, 'UT');
    assert.ok(Date.now() - started >= 750, 'after the 800 ms route timeout');
  });

  for (const path of ['/short-body', '/reset-mid-body']) {
    test(`${path.slice(1)} after the head was relayed: the client connection is cut, never a truncated "complete" response`, async () => {
      const reply = await brokenThenOk(path);
      assert.equal(reply.status, 200, 'the head had already been relayed');
      assert.ok(reply.closed, 'the client connection was cut');
      const body = reply.raw.slice(reply.raw.indexOf('\r\n\r\n') + 4);
      assert.ok(body.length < 100, `the body stayed short (${body.length} bytes): the client can tell it is incomplete from Content-Length`);
    });
  }

  test('extra bytes after a complete response: the response is relayed, the bytes after it are never read as a response', async () => {
    const reply = await brokenThenOk('/extra-bytes');
    assert.equal(reply.status, 200, reply.raw);
    assert.ok(reply.raw.endsWith('\r\n\r\nhello'), `exactly the declared body: ${JSON.stringify(reply.raw.slice(-40))}`);
    assert.doesNotMatch(reply.raw, /smuggle/);
  });
});
