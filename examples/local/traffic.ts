import { Agent, request } from 'node:http';

export interface TickStats {
  sent: number;
  ok: number;
  failed: number;
  latenciesMs: number[];
  byReplica: Map<string, number>;
  failures: Map<string, number>;
}

export function emptyStats(): TickStats {
  return { sent: 0, ok: 0, failed: 0, latenciesMs: [], byReplica: new Map(), failures: new Map() };
}

/** Sends `ratePerSecond` GETs to the frontend's sidecar for `durationMs`, recording into `stats()` as they finish. */
export async function generateTraffic(port: number, ratePerSecond: number, durationMs: number, stats: () => TickStats, stopped: () => boolean): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const interval = 1000 / ratePerSecond;
  const end = Date.now() + durationMs;
  const inFlight = new Set<Promise<void>>();
  while (Date.now() < end && !stopped()) {
    const p = once(port, agent, stats).finally(() => inFlight.delete(p));
    inFlight.add(p);
    await new Promise((r) => setTimeout(r, interval));
  }
  await Promise.all(inFlight);
  agent.destroy();
}

/** Counts the send in the current tick and the result in the tick current when it completes. */
function once(port: number, agent: Agent, stats: () => TickStats): Promise<void> {
  const started = performance.now();
  stats().sent++;
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: 'frontend' }, agent, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const s = stats();
        s.latenciesMs.push(performance.now() - started);
        const body = parse(Buffer.concat(chunks).toString());
        if (res.statusCode === 200) {
          s.ok++;
          const replica = String((body?.catalog as { replica?: string } | undefined)?.replica ?? '?');
          s.byReplica.set(replica, (s.byReplica.get(replica) ?? 0) + 1);
        } else {
          s.failed++;
          const reason = describeFailure(res.statusCode ?? 0, body, res.headers['x-outrigger-reason']);
          s.failures.set(reason, (s.failures.get(reason) ?? 0) + 1);
        }
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => {
      const s = stats();
      s.failed++;
      s.failures.set(error.message, (s.failures.get(error.message) ?? 0) + 1);
      resolve();
    });
    req.end();
  });
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** "502 catalog 503 UF": the frontend's status, which call failed, that call's status and reason flag. */
function describeFailure(status: number, body: Record<string, unknown> | undefined, flag: string | string[] | undefined): string {
  const failed = typeof body?.failed === 'string' ? body.failed : undefined;
  if (!failed) return `${status} ${String(flag ?? '')}`.trim();
  const inner = body?.[failed] as { reason?: string } | undefined;
  return `${status} ${failed} ${String(body?.[`${failed}Status`] ?? '')} ${inner?.reason ?? ''}`.trim();
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}
