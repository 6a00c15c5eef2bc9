import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** Child processes the demo started, each ended by its own PID on the way out. */
export class ProcessGroup {
  private readonly children: { name: string; child: ChildProcess }[] = [];

  start(name: string, args: string[], onLine: (line: string) => void): ChildProcess {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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

  /** SIGTERM to each child, SIGKILL after 5 s for any that linger; resolves when all have exited. */
  async stopAll(): Promise<void> {
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

/** Polls a URL until it answers 200, or fails with what the process printed. */
export async function waitForOk(url: string, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms\n${describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
