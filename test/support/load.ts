import { Agent, request } from 'node:http';

export interface LoadResult {
  sent: number;
  ok: number;
  failures: Map<string, number>;
  /** Duration of every request that got a response, in milliseconds. */
  latenciesMs: number[];
}

/** The p-th percentile (0–100) of a sample, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/**
 * A closed loop of `concurrency` workers sending GETs through a sidecar's outbound listener until `stop()` says
 * so or `maxMs` passes (whichever comes first). Bounded in time and never more than `concurrency` in flight.
 */
export async function runLoad(port: number, host: string, concurrency: number, maxMs: number, stop: () => boolean): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const result: LoadResult = { sent: 0, ok: 0, failures: new Map(), latenciesMs: [] };
  const deadline = Date.now() + maxMs;
  const worker = async (): Promise<void> => {
    while (!stop() && Date.now() < deadline) {
      result.sent++;
      const started = performance.now();
      const outcome = await once(port, host, agent);
      if (!outcome.startsWith('error')) result.latenciesMs.push(performance.now() - started);
      if (outcome === 'ok') result.ok++;
      else result.failures.set(outcome, (result.failures.get(outcome) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return result;
}

function once(port: number, host: string, agent: Agent): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/work', headers: { host, 'x-outrigger-debug': '1' }, agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? 'ok' : `${res.statusCode} ${String(res.headers['x-outrigger-reason'] ?? '')}`.trim()));
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (error) => resolve(`error ${error.message}`));
    req.end();
  });
}
