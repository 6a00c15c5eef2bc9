import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath, freePort } from './local-tools.ts';

/** A real redis-server of our own on a loopback port, in a temp dir, with persistence off. */
export interface TestRedis {
  port: number;
  url: string;
  /** PID of the running server, undefined while stopped. */
  readonly pid: number | undefined;
  /** SIGKILL by PID, as a crash: clients see the connection drop. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT by PID: connections stay open but nothing answers, as a stalled server. */
  pause(): void;
  resume(): void;
  /** Starts a server again on the same port (after `kill`). */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

const BINARY = 'redis-server';

/** Starts redis-server; fails with a clear message when it is not installed (CI installs it: tests never skip). */
export async function startRedis(): Promise<TestRedis> {
  const binary = findOnPath(BINARY);
  if (!binary) {
    throw new Error(`${BINARY} is not on PATH; these tests need a real Redis (Debian/Ubuntu: apt-get install redis-server)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'outrigger-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined = await launch(binary, port, dir);
  const exit = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGCONT'); // a paused server would not act on SIGTERM
    running.kill(signal);
    await exited;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    kill: () => exit('SIGKILL'),
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    async restart() {
      await exit('SIGKILL');
      child = await launch(binary, port, dir);
    },
    async stop() {
      await exit('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function launch(binary: string, port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (await answersPing(port)) return child;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on 127.0.0.1:${port} did not answer PING within 5 s:\n${output.join('')}`);
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk: Buffer) => done(chunk.toString().startsWith('+PONG')));
  });
}


