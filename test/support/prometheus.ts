import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath, freePort } from './local-tools.ts';

export { freePort };

/** One element of an instant-vector answer of `/api/v1/query`. */
export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

/** A real Prometheus server of our own on a loopback port, in a temp dir, scraping the given targets. */
export interface TestPrometheus {
  port: number;
  /** PID of the server, undefined once stopped. */
  readonly pid: number | undefined;
  /** An instant query through the HTTP API (`GET /api/v1/query`). */
  query(expr: string): Promise<PromSample[]>;
  /** Polls `query` until `accept` says yes, or throws after `timeoutMs` with the last answer. */
  waitFor(expr: string, accept: (samples: PromSample[]) => boolean, timeoutMs?: number): Promise<PromSample[]>;
  /** SIGTERM by PID, then removes the data directory. */
  stop(): Promise<void>;
  logs: string[];
}

const BINARY = 'prometheus';

/** Starts Prometheus; fails with a clear message when it is not installed (npm test's pretest installs it: tests never skip). */
export async function startPrometheus(options: { targets: string[]; scrapeIntervalSeconds?: number; metricsPath?: string }): Promise<TestPrometheus> {
  const binary = findOnPath(BINARY);
  if (!binary) throw new Error(`${BINARY} is not on PATH; this test needs a real Prometheus (Debian/Ubuntu: apt-get install prometheus)`);
  const dir = mkdtempSync(join(tmpdir(), 'outrigger-prometheus-'));
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:
  scrape_interval: ${interval}
  scrape_timeout: ${interval}
  evaluation_interval: ${interval}
scrape_configs:
  - job_name: outrigger
    metrics_path: ${options.metricsPath ?? '/metrics'}
    static_configs:
      - targets: [${options.targets.map((t) => `"${t}"`).join(', ')}]
`,
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  let running: ChildProcess | undefined = child;
  const stop = async (): Promise<void> => {
    const c = running;
    running = undefined;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = once(c, 'exit');
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with code ${child.exitCode}:\n${logs.join('')}`);
    }
    if ((await get(port, '/-/ready').catch(() => undefined))?.status === 200) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus on 127.0.0.1:${port} was not ready within 15 s:\n${logs.join('')}`);
    }
    await sleep(100);
  }

  const query = async (expr: string): Promise<PromSample[]> => {
    const res = await get(port, `/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = JSON.parse(res.body) as { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success' || !body.data) throw new Error(`query ${expr} failed: ${res.status} ${body.error ?? res.body}`);
    if (body.data.resultType !== 'vector') throw new Error(`query ${expr} returned a ${body.data.resultType}, not a vector`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };

  return {
    port,
    get pid() {
      return running?.pid;
    },
    logs,
    query,
    async waitFor(expr, accept, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      let last: PromSample[];
      for (;;) {
        last = await query(expr);
        if (accept(last)) return last;
        if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting on ${expr}; last answer: ${JSON.stringify(last)}`);
        await sleep(200);
      }
    },
    stop,
  };
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));


