import assert from 'node:assert/strict';
import { Agent, createServer, request, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { endpointsYaml, startSidecarProcess, writeConfig, type SidecarProcess } from './support/sidecar-process.ts';

/**
 * Upstream replicas restarting under steady load, both ways an app goes away: a graceful restart (stop accepting,
 * close idle keep-alive connections, finish what is in flight) and a crash (every connection cut, requests in flight
 * lost). No request may be lost that could have been retried safely: every GET succeeds, and a POST may fail only
 * when its connection was reset after it was sent (UC): the app may have acted on it, so only the client can decide
 * to send it again (RFC 9110 §9.2.2). A POST refused at connect (UF), or without an endpoint (UH, UO), is a bug.
 */

const POLICY = `apiVersion: outrigger.dev/v1alpha1
kind: TrafficPolicy
metadata:
  name: catalog
spec:
  targetRefs:
    - { group: "", kind: Service, name: catalog }
  retry:
    numRetries: 3
    retryOn: { triggers: [connect-failure, reset, refused-stream] }
    perRetry: { backOff: { baseInterval: 5ms, maxInterval: 50ms } }
    budget: { percent: 100, minRetriesPerSecond: 1000 }
  # Envoy's default of 3 retries in flight per Service would refuse some of a crash's burst (UO) on purpose.
  circuitBreaker: { maxParallelRetries: 64 }
`;

/** A replica on a fixed port that can be stopped and started again on it, recording every request it received. */
class Replica {
  readonly received = new Set<string>();
  private server: Server | undefined;
  private stopping = false;
  private readonly sockets = new Set<Socket>();
  readonly port: number;
  constructor(port: number) {
    this.port = port;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.received.add(req.url ?? '');
      req.resume();
      req.on('end', () =>
        setTimeout(() => {
          // A draining app closes each connection after its response, so that the caller stops reusing it.
          if (this.stopping) res.setHeader('connection', 'close');
          res.end('ok');
        }, 2),
      );
    });
    server.keepAliveTimeout = 5_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.stopping = false;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** As an app handling SIGTERM: stop accepting, close idle connections, finish requests in flight with `Connection: close`. */
  async stopGracefully(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.stopping = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
  }

  /** As a crash: every connection cut at once, requests in flight lost. */
  async crash(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

interface Outcome {
  id: string;
  method: 'GET' | 'POST';
  status: number;
  error?: string;
}

function call(port: number, agent: Agent, method: 'GET' | 'POST', id: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method, path: `/${id}`, agent, headers: { host: 'catalog', 'x-outrigger-debug': '1' }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ id, method, status: res.statusCode ?? 0, ...(res.statusCode === 200 ? {} : { error: String(res.headers['x-outrigger-reason'] ?? '') }) }));
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (error) => resolve({ id, method, status: 0, error: error.message }));
    req.end(method === 'POST' ? JSON.stringify({ order: id }) : undefined);
  });
}

describe('upstream restarts under load', () => {
  let replicas: Replica[];
  let sidecar: SidecarProcess;

  before(async () => {
    replicas = [new Replica(await freePort()), new Replica(await freePort())];
    for (const replica of replicas) await replica.start();
    const config = writeConfig({
      'endpoints.yaml': endpointsYaml('catalog', replicas.map((r) => `127.0.0.1:${r.port}`)),
      'policy.yaml': POLICY,
    });
    sidecar = await startSidecarProcess({ service: 'frontend', app: '127.0.0.1:9', config, extraArgs: ['--access-log', 'stdout'] });
  });

  after(async () => {
    await sidecar?.stop();
    for (const replica of replicas ?? []) await replica.crash();
  });

  for (const kind of ['graceful', 'crash'] as const) {
    test(`${kind} restarts: every GET succeeds; a POST fails only when reset after it was sent`, async (t) => {
      let stop = false;
      const outcomes: Outcome[] = [];
      const agent = new Agent({ keepAlive: true, maxSockets: 8 });
      let next = 0;
      const worker = async (w: number): Promise<void> => {
        const deadline = Date.now() + 20_000;
        while (!stop && Date.now() < deadline) {
          const method = w % 2 === 0 ? 'GET' : 'POST';
          outcomes.push(await call(sidecar.outboundPort, agent, method, `${kind}-${method}-${next++}`));
        }
      };
      const load = Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));

      // Six restarts, alternating replicas, each down for 300 ms, with load flowing between them.
      for (let i = 0; i < 6; i++) {
        await sleep(400);
        const replica = replicas[i % 2] as Replica;
        await (kind === 'graceful' ? replica.stopGracefully() : replica.crash());
        await sleep(300);
        await replica.start();
      }
      await sleep(400);
      stop = true;
      await load;
      agent.destroy();

      const failed = outcomes.filter((o) => o.status !== 200);
      const getsFailed = failed.filter((o) => o.method === 'GET');
      const postsFailed = failed.filter((o) => o.method === 'POST');
      const receivedBy = (id: string): boolean => replicas.some((r) => r.received.has(`/${id}`));
      const lostPosts = postsFailed.filter((o) => !receivedBy(o.id));
      const unsafe = postsFailed.filter((o) => o.error !== 'UC');
      t.diagnostic(
        `${kind}: ${outcomes.length} requests (${outcomes.filter((o) => o.method === 'GET').length} GET), ${getsFailed.length} GET failed, ` +
          `${postsFailed.length} POST failed, all reset after being sent (UC): ${postsFailed.length - lostPosts.length} had reached the app, ${lostPosts.length} had not`,
      );
      const failedIds = new Set(failed.map((o) => `"/${o.id}"`));
      for (const line of sidecar.logs.join('').split('\n').filter((l) => [...failedIds].some((id) => l.includes(id))).slice(0, 8)) t.diagnostic(line);
      assert.ok(outcomes.length > 200, `load ran (${outcomes.length} requests)`);
      assert.deepEqual(getsFailed, [], 'no GET failed');
      assert.deepEqual(unsafe, [], 'every failed POST was reset after it was sent; none failed that could have been retried safely');
    });
  }
});
