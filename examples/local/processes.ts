import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** Child processes the demo started, each ended by its own PID on the way out. */
export class ProcessGroup {
  private readonly children: { name: string; child: ChildProcess }[] = [];
  private stopping = false;

  start(name: string, args: string[], onLine: (line: string) => void, env: NodeJS.ProcessEnv = process.env): ChildProcess {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.children.push({ name, child });
    let pending = '';
    const read = (chunk: Buffer): void => {
      pending += chunk.toString();
      let newline: number;
      while ((newline = pending.indexOf('\n')) !== -1) {
        onLine(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    return child;
  }

  get pids(): number[] {
    return this.children.map((c) => c.child.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** The first child that exited on its own (not stopped by us), with how. */
  exited(): string | undefined {
    if (this.stopping) return undefined;
    const gone = this.children.find(({ child }) => child.exitCode !== null || child.signalCode !== null);
    return gone ? `${gone.name} (PID ${gone.child.pid}) exited with ${gone.child.exitCode ?? gone.child.signalCode}` : undefined;
  }

  /** SIGTERM to each child by PID, SIGKILL after 5 s for any that linger; resolves when all have exited. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.children.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

/**
 * Polls a URL until `accept` (default: status 200) holds for its reply, or fails with what the processes printed;
 * fails at once when a child has exited.
 */
export async function waitFor(url: string, timeoutMs: number, group: ProcessGroup, describe: () => string, accept: (status: number, body: string) => boolean = (s) => s === 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gone = group.exited();
    if (gone) throw new Error(`${gone}\n${describe()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (accept(res.status, await res.text())) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready within ${timeoutMs} ms\n${describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
