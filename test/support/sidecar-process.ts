import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledCli } from '../../cli/dist.ts';
import { SIDECAR_NODE_FLAGS } from '../../cli/node-flags.ts';

const CLI = bundledCli();

export interface SidecarProcess {
  child: ChildProcess;
  inboundPort: number;
  outboundPort: number;
  adminPort: number;
  logs: string[];
  configDir: string;
  /** `host:port` of its gossip port, when it joined a mesh. */
  gossipAddress: string | undefined;
  /** SIGTERM (graceful) by default; SIGKILL to simulate a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Writes config text to a fresh temp folder (one file per entry) and returns the folder. */
export function writeConfig(files: Record<string, string>, dir = mkdtempSync(join(tmpdir(), 'outrigger-test-'))): string {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Starts a real sidecar process on ephemeral ports and waits for its `ready` log line. */
export async function startSidecarProcess(options: { service: string; app: string; config?: string | undefined; extraArgs?: string[]; env?: NodeJS.ProcessEnv }): Promise<SidecarProcess> {
  const child = spawn(
    process.execPath,
    [...SIDECAR_NODE_FLAGS, CLI, 'sidecar', '--service', options.service, '--app', options.app, ...(options.config ? ['--config', options.config] : []), '--inbound', '0', '--inbound-host', '127.0.0.1', '--outbound', '0', '--admin', '0', '--log-format', 'json', '--drain-seconds', '0', ...(options.extraArgs ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
  );
  const logs: string[] = [];
  let gossipAddress: string | undefined;
  let buffered = '';
  const ready = new Promise<{ inbound: number; outbound: number; admin: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sidecar did not become ready in 10 s:\n${logs.join('\n')}`)), 10_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        logs.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; inbound?: string; outbound?: string; admin?: string; gossip?: string };
          if (entry.msg === 'gossip listening') gossipAddress = entry.gossip;
          if (entry.msg === 'ready' && entry.inbound && entry.outbound && entry.admin) {
            clearTimeout(timer);
            const port = (s: string): number => Number(s.slice(s.lastIndexOf(':') + 1));
            resolve({ inbound: port(entry.inbound), outbound: port(entry.outbound), admin: port(entry.admin) });
          }
        } catch {
          // not a JSON line (e.g. a Node warning); kept in logs
        }
      }
    });
    child.stdout?.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sidecar exited with code ${code}:\n${logs.join('\n')}${buffered}`));
    });
  });
  const ports = await ready;
  return {
    child,
    inboundPort: ports.inbound,
    outboundPort: ports.outbound,
    adminPort: ports.admin,
    logs,
    configDir: options.config ?? '',
    gossipAddress,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await once(child, 'exit');
      clearTimeout(timer);
    },
  };
}

export function endpointsYaml(service: string, addresses: string[], namespace = 'default'): string {
  return `apiVersion: outrigger.dev/v1alpha1
kind: ServiceEndpoints
metadata:
  name: ${service}
  namespace: ${namespace}
spec:
  endpoints:${addresses.length === 0 ? ' []' : `\n${addresses.map((a) => `    - address: ${a}`).join('\n')}`}
`;
}
