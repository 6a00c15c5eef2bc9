/**
 * Run wrk (bounded by -d, always with --latency) and parse its text report:
 * request count, req/s, latency percentiles (units us/ms/s/m/h), socket errors and non-2xx responses.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerGroup, unregisterGroup } from './procs.ts';

export interface WrkErrors {
  connect: number;
  read: number;
  write: number;
  timeout: number;
  /** wrk's "Non-2xx or 3xx responses" (it counts status >= 400). */
  non2xx: number;
}

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  latencyUs: { avg: number; max: number; p50: number; p75: number; p90: number; p99: number };
  errors: WrkErrors;
}

const TIME_UNIT_US: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };

/** "412.00us" → 412, "1.23ms" → 1230, "2.00s" → 2000000. */
export function parseTimeUs(text: string): number {
  const match = /^([0-9.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (match === null) throw new Error(`wrk: cannot parse time "${text}"`);
  return Number(match[1]) * (TIME_UNIT_US[match[2] ?? ''] ?? Number.NaN);
}

export function errorCount(errors: WrkErrors): number {
  return errors.connect + errors.read + errors.write + errors.timeout + errors.non2xx;
}

export function parseWrk(output: string): WrkResult {
  const need = (re: RegExp, what: string): RegExpExecArray => {
    const match = re.exec(output);
    if (match === null) throw new Error(`wrk: no ${what} in output:\n${output}`);
    return match;
  };
  const summary = need(/^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m|h),/m, 'request summary');
  const rps = need(/^Requests\/sec:\s+([0-9.]+)/m, 'Requests/sec');
  const latency = need(/^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)\s+/m, 'latency stats');
  const percentile = (p: string): number =>
    parseTimeUs(need(new RegExp(`^\\s*${p}%\\s+(\\S+)$`, 'm'), `${p}% latency (run wrk with --latency)`)[1] ?? '');
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requests: Number(summary[1]),
    seconds: parseTimeUs(`${summary[2]}${summary[3]}`) / 1e6,
    rps: Number(rps[1]),
    latencyUs: {
      avg: parseTimeUs(latency[1] ?? ''),
      max: parseTimeUs(latency[3] ?? ''),
      p50: percentile('50'),
      p75: percentile('75'),
      p90: percentile('90'),
      p99: percentile('99'),
    },
    errors: {
      connect: Number(socket?.[1] ?? 0),
      read: Number(socket?.[2] ?? 0),
      write: Number(socket?.[3] ?? 0),
      timeout: Number(socket?.[4] ?? 0),
      non2xx: Number(non2xx?.[1] ?? 0),
    },
  };
}

export interface WrkOptions {
  url: string;
  connections: number;
  threads: number;
  durationS: number;
  headers?: Record<string, string>;
  timeoutS?: number;
}

export function wrkArgs(options: WrkOptions): string[] {
  const args = [
    '-t',
    String(Math.max(1, Math.min(options.threads, options.connections))),
    '-c',
    String(options.connections),
    '-d',
    `${Math.max(1, Math.round(options.durationS))}s`,
    '--timeout',
    `${options.timeoutS ?? 2}s`,
    '--latency',
  ];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`);
  args.push(options.url);
  return args;
}

/** Run wrk once; it runs in its own process group so the harness can kill it on SIGINT. */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const child = spawn('wrk', wrkArgs(options), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid ?? -1));
    child.once('error', reject);
  });
  registerGroup(pid);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  // wrk stops itself after -d; a hard bound in case it hangs.
  const limitMs = (options.durationS + (options.timeoutS ?? 2) + 10) * 1000;
  const code = await Promise.race([exited, sleep(limitMs).then(() => 'hung' as const)]);
  if (code === 'hung') {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
    await exited;
  }
  unregisterGroup(pid);
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${stderr.trim() || stdout.trim()}`);
  return parseWrk(stdout);
}
