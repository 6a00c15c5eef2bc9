/** Shared start/stop for the Node peers in bench/peers/: `node <script> --port P --upstream HOST:PORT`. */
import path from 'node:path';
import { freePort, readTail, startProcess, waitFor200 } from '../procs.ts';
import { runningFrom, SkipTarget, type RunningTarget, type TargetContext } from './types.ts';

export async function startNodePeer(ctx: TargetContext, name: string, script: string): Promise<RunningTarget> {
  const port = await freePort();
  const proc = await startProcess(name, ctx.options.nodeBin, [
    path.join(ctx.options.repoRoot, 'bench/peers', script),
    '--port',
    String(port),
    '--upstream',
    ctx.upstream.address,
  ]);
  const failed = await waitFor200(`http://127.0.0.1:${port}/100b`, { timeoutMs: 10_000, proc });
  if (failed !== null) {
    const tail = proc.logTail();
    await proc.stop();
    throw new SkipTarget(`${name}: ${failed}\n${tail}`);
  }
  // Whatever the peer printed (e.g. deprecation warnings) is shown under the results, not suppressed.
  const notes = (): string[] => {
    const text = readTail(proc.logPath, 20).trim();
    return text === '' ? [] : [`${name} printed: ${text.split('\n').slice(0, 3).join(' | ')}`];
  };
  return runningFrom(`http://127.0.0.1:${port}`, [proc], notes);
}
