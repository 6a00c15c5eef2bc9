/**
 * Process, port and temp-dir bookkeeping for the bench harness.
 *
 * Every child runs in its own process group (`detached: true`), so stopping it
 * kills the whole group (nginx master + worker, a shell + its child, ...) by PID,
 * never by name. `installCleanup()` makes sure groups and the temp dir are gone
 * on normal exit, on an uncaught error and on SIGINT/SIGTERM.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const groups = new Set<number>();
let tempRoot: string | undefined;
let interrupted = false;

/** True once SIGINT/SIGTERM arrived: the main loop stops starting new runs. */
export function isInterrupted(): boolean {
  return interrupted;
}

/** The run's temp dir (created on first use, world-readable so an nginx worker running as `nobody` can serve from it). */
export function tempDir(): string {
  if (tempRoot === undefined) {
    tempRoot = mkdtempSync(path.join(os.tmpdir(), 'outrigger-bench-'));
    chmodSync(tempRoot, 0o755);
  }
  return tempRoot;
}

export function registerGroup(pid: number): void {
  groups.add(pid);
}

export function unregisterGroup(pid: number): void {
  groups.delete(pid);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Synchronous last-resort cleanup: SIGKILL every group still registered, remove the temp dir. */
export function cleanupSync(): void {
  for (const pid of groups) killGroup(pid, 'SIGKILL');
  groups.clear();
  if (tempRoot !== undefined) {
    rmSync(tempRoot, { recursive: true, force: true });
    tempRoot = undefined;
  }
}

/** Graceful cleanup: SIGTERM every group, wait up to `graceMs`, then SIGKILL and remove the temp dir. */
export async function cleanup(graceMs = 2000): Promise<void> {
  const pids = [...groups];
  for (const pid of pids) killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(groupAlive) && Date.now() < deadline) await sleep(25);
  cleanupSync();
}

export function installCleanup(): void {
  process.on('exit', cleanupSync);
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      cleanupSync();
      process.exit(130);
    }
    interrupted = true;
    console.error(`\n${signal}: stopping every process the harness started...`);
    void cleanup(1500).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

export interface Managed {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** undefined while running, else the exit code (or the signal name). */
  exitStatus(): number | string | undefined;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/** Spawn a long-running process in its own group; stdout and stderr go to `<tempDir>/<name>.log`. */
export async function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Managed> {
  const logPath = path.join(tempDir(), `${name}.log`);
  const fd = openSync(logPath, 'a');
  const stdio: StdioOptions = ['ignore', fd, fd];
  const child = spawn(command, args, { detached: true, stdio, cwd: options.cwd, env: options.env ?? process.env });
  closeSync(fd);
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid ?? -1));
    child.once('error', reject);
  });
  registerGroup(pid);
  let status: number | string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      status = code ?? signal ?? 'unknown';
      resolve();
    });
  });
  return {
    name,
    pid,
    logPath,
    exitStatus: () => status,
    logTail: (lines = 15) => readTail(logPath, lines),
    async stop() {
      killGroup(pid, 'SIGTERM');
      const timedOut = await Promise.race([exited.then(() => false), sleep(3000).then(() => true)]);
      // The leader may be gone while group members (e.g. an nginx worker) linger: make sure.
      if (timedOut || groupAlive(pid)) {
        await sleep(timedOut ? 0 : 100);
        killGroup(pid, 'SIGKILL');
        await Promise.race([exited, sleep(1000)]);
      }
      unregisterGroup(pid);
    },
  };
}

export function readTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Free TCP ports on 127.0.0.1, never the same one twice within a run. */
const handedOut = new Set<number>();
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const p = typeof address === 'object' && address !== null ? address.port : 0;
        server.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export interface HttpResult {
  status: number;
  bodyBytes: number;
  body: string;
}

/** One GET without keep-alive; rejects on socket errors or after `timeoutMs`. */
export function httpGet(url: string, headers: Record<string, string> = {}, timeoutMs = 2000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, bodyBytes: body.length, body: body.toString('utf8', 0, 300) });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/**
 * Poll `url` until it answers 200, the process exits, or `timeoutMs` passes.
 * Returns null on success, else a reason.
 */
export async function waitFor200(
  url: string,
  options: { timeoutMs: number; intervalMs?: number; headers?: Record<string, string>; proc?: Managed },
): Promise<string | null> {
  const deadline = performance.now() + options.timeoutMs;
  let last: string;
  for (;;) {
    const status = options.proc?.exitStatus();
    if (status !== undefined) return `process exited (${status}) before ${url} answered 200`;
    try {
      const res = await httpGet(url, options.headers ?? {}, 1000);
      if (res.status === 200) return null;
      last = `HTTP ${res.status}: ${res.body.slice(0, 120).trim()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (performance.now() >= deadline) return `no 200 from ${url} within ${options.timeoutMs} ms (last: ${last})`;
    await sleep(options.intervalMs ?? 20);
  }
}
