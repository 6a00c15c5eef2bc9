import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { scrapeMetrics } from './metrics-scrape.ts';
import { sendRaw } from './raw-socket.ts';

/**
 * Mixed good and bad traffic against one sidecar for a bounded time, sampling its memory once a second: the memory
 * soak of `test/soak-memory.test.ts` and `npm run bench:soak`. The sidecar must have a Service `app` whose endpoint
 * answers `/big` with a large body and anything else with a short one, and the same app behind its inbound listener.
 */

export interface SoakTarget {
  inboundPort: number;
  outboundPort: number;
  adminPort: number;
}

export interface MemorySample {
  atMs: number;
  rssBytes: number;
  heapUsedBytes: number;
}

export interface SoakResult {
  samples: MemorySample[];
  good: { sent: number; ok: number; failures: Map<string, number> };
  /** Malformed requests sent as raw bytes, and how many got a 4xx/5xx answer or a closed connection. */
  hostile: { sent: number; refused: number };
  /** Clients that went away on their own: mid-head, mid-body or mid-response. */
  abandoned: number;
}

const H = 'Host: app\r\n';
/** A few of the corpus' hostile requests: framing, header syntax, chunking, sizes, Host. */
const HOSTILE: readonly string[] = [
  `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
  `POST / HTTP/1.1\r\n${H}Content-Length: +1\r\n\r\nx`,
  `GET / HTTP/1.1\r\n${H}X-Foo : bar\r\n\r\n`,
  `GET / HTTP/1.1\r\n${H}X-Foo: a\r\n b\r\n\r\n`,
  `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`,
  `GET / HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(17_000)}\r\n\r\n`,
  'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
  `GET / HTTP/2.0\r\n${H}\r\n`,
  'CONNECT app:443 HTTP/1.1\r\nHost: app:443\r\n\r\n',
];

async function sampleMemory(adminPort: number, startedAt: number): Promise<MemorySample> {
  const metrics = await scrapeMetrics(adminPort);
  return { atMs: Date.now() - startedAt, rssBytes: metrics.value('process_resident_memory_bytes') ?? Number.NaN, heapUsedBytes: metrics.value('nodejs_heap_size_used_bytes') ?? Number.NaN };
}

function exchange(agent: Agent, port: number, method: string, path: string, body: Buffer | undefined): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: { host: 'app', 'x-outrigger-debug': '1' }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? 'ok' : `${res.statusCode} ${String(res.headers['x-outrigger-reason'] ?? '')}`.trim()));
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (error) => resolve(`error ${error.message}`));
    req.end(body);
  });
}

/** A client that goes away on its own: after part of a head, part of a body, or part of a large response. */
function abandon(port: number, kind: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.once('close', () => resolve());
    socket.once('connect', () => {
      if (kind === 0) socket.write('GET / HTTP/1.1\r\nHost: ap');
      else if (kind === 1) socket.write(`POST /upload HTTP/1.1\r\n${H}Content-Length: 100000\r\n\r\n${'x'.repeat(1_000)}`);
      else {
        socket.write(`GET /big HTTP/1.1\r\n${H}\r\n`);
        socket.once('data', () => socket.destroy());
        return;
      }
      setTimeout(() => socket.destroy(), 20);
    });
    setTimeout(() => socket.destroy(), 2_000).unref();
  });
}

export async function runSoak(target: SoakTarget, durationMs: number): Promise<SoakResult> {
  const startedAt = Date.now();
  const deadline = startedAt + durationMs;
  const result: SoakResult = { samples: [], good: { sent: 0, ok: 0, failures: new Map() }, hostile: { sent: 0, refused: 0 }, abandoned: 0 };
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const body = Buffer.alloc(16 * 1024, 0x62);
  const good = async (port: number, method: string): Promise<void> => {
    while (Date.now() < deadline) {
      result.good.sent++;
      const outcome = await exchange(agent, port, method, method === 'POST' ? '/upload' : '/echo', method === 'POST' ? body : undefined);
      if (outcome === 'ok') result.good.ok++;
      else result.good.failures.set(outcome, (result.good.failures.get(outcome) ?? 0) + 1);
    }
  };
  const hostile = async (): Promise<void> => {
    for (let i = 0; Date.now() < deadline; i++) {
      const port = i % 2 === 0 ? target.inboundPort : target.outboundPort;
      result.hostile.sent++;
      const reply = await sendRaw(port, [HOSTILE[i % HOSTILE.length] as string], 1_000);
      if (reply.status >= 400 || (reply.status === 0 && reply.closed)) result.hostile.refused++;
    }
  };
  const abandoning = async (): Promise<void> => {
    for (let i = 0; Date.now() < deadline; i++) {
      await abandon(target.inboundPort, i % 3);
      result.abandoned++;
    }
  };
  const sampling = async (): Promise<void> => {
    while (Date.now() < deadline) {
      result.samples.push(await sampleMemory(target.adminPort, startedAt));
      await sleep(1_000);
    }
    result.samples.push(await sampleMemory(target.adminPort, startedAt));
  };
  await Promise.all([good(target.outboundPort, 'GET'), good(target.outboundPort, 'GET'), good(target.inboundPort, 'GET'), good(target.inboundPort, 'POST'), hostile(), abandoning(), sampling()]);
  agent.destroy();
  return result;
}

/** Upstream handler for a soak: `/big` is 4 MiB, `/upload` reads the body, anything else a short reply. */
export function soakApp(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/big') {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let left = 64;
    const pump = (): void => {
      while (left-- > 0) if (!res.write(chunk)) return void res.once('drain', pump);
      res.end();
    };
    res.on('close', () => (left = 0));
    pump();
    return;
  }
  req.resume();
  req.on('end', () => res.end('ok'));
}
