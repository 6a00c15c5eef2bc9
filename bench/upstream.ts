/**
 * The upstream every target forwards to: nginx (1 worker, its own instance) serving /100b and /16k
 * from the temp dir, keep-alive on, no access log. Without nginx, a small Node static server stands in.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, startProcess, tempDir, waitFor200, type Managed } from './procs.ts';
import { startNginx } from './targets/nginx.ts';
import type { Upstream } from './targets/types.ts';

export const BODIES = { '100b': 100, '16k': 16 * 1024 } as const;
export type BodyName = keyof typeof BODIES;

export interface RunningUpstream extends Upstream {
  kind: string;
  proc: Managed;
}

export async function startUpstream(haveNginx: boolean, nodeBin: string, repoRoot: string): Promise<RunningUpstream> {
  const port = await freePort();
  let proc: Managed;
  let kind: string;
  if (haveNginx) {
    const root = path.join(tempDir(), 'www');
    mkdirSync(root, { recursive: true, mode: 0o755 });
    for (const [name, size] of Object.entries(BODIES)) writeFileSync(path.join(root, name), 'x'.repeat(size), { mode: 0o644 });
    proc = await startNginx(
      'upstream',
      `
  open_file_cache max=16 inactive=60s;
  sendfile on;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    default_type application/octet-stream;
    location / { }
  }`,
    );
    kind = 'nginx (static files, 1 worker)';
  } else {
    proc = await startProcess('upstream', nodeBin, [path.join(repoRoot, 'bench/peers/static-upstream.ts'), '--port', String(port)]);
    kind = 'Node static server (nginx not found)';
  }
  const failed = await waitFor200(`http://127.0.0.1:${port}/100b`, { timeoutMs: 5000, proc });
  if (failed !== null) {
    const tail = proc.logTail();
    await proc.stop();
    throw new Error(`upstream did not start: ${failed}\n${tail}`);
  }
  return { kind, proc, host: '127.0.0.1', port, address: `127.0.0.1:${port}` };
}
