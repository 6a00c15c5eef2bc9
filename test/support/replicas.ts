import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../fixtures/replica.ts', import.meta.url));

export interface Replica {
  name: string;
  port: number;
  address: string;
  child: ChildProcess;
  setMode(mode: 'ok' | 'slow' | '500' | '503'): Promise<void>;
  served(): Promise<number>;
  kill(): Promise<void>;
}

/** Starts an upstream replica process (see fixtures/replica.ts) and waits until it listens. */
export async function startReplica(name: string): Promise<Replica> {
  const child = spawn(process.execPath, [SCRIPT, name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(/listening (\d+)/.exec(chunk.toString())?.[1])));
    child.once('exit', (code) => reject(new Error(`replica ${name} exited with ${code}`)));
  });
  const control = async (path: string, method = 'GET'): Promise<string> => (await fetch(`http://127.0.0.1:${port}${path}`, { method })).text();
  return {
    name,
    port,
    address: `127.0.0.1:${port}`,
    child,
    setMode: async (mode) => void (await control(`/__mode/${mode}`, 'POST')),
    served: async () => Number(await control('/__count')),
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
