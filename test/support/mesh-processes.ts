import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledCli } from '../../cli/dist.ts';
import { SIDECAR_NODE_FLAGS } from '../../cli/node-flags.ts';
import { generateKey } from '../../gossip/keyring.ts';
import { generateSigningKeys } from '../../policy/snapshot/keys.ts';
import { startSidecarProcess, type SidecarProcess } from './sidecar-process.ts';

const CLI = bundledCli();

export interface MeshKeys {
  dir: string;
  signingKey: string;
  publicKey: string;
  gossipKey: string;
}

/** Fresh key material in a temp folder, as `outrigger keygen` writes it. */
export function writeMeshKeys(): MeshKeys {
  const dir = mkdtempSync(join(tmpdir(), 'outrigger-keys-'));
  const { privateKeyPem, publicKeyPem } = generateSigningKeys();
  const keys = { dir, signingKey: join(dir, 'signing-key.pem'), publicKey: join(dir, 'signing-key.pub.pem'), gossipKey: join(dir, 'gossip.key') };
  writeFileSync(keys.signingKey, privateKeyPem, { mode: 0o600 });
  writeFileSync(keys.publicKey, publicKeyPem);
  writeFileSync(keys.gossipKey, `${Buffer.from(generateKey()).toString('base64')}\n`, { mode: 0o600 });
  return keys;
}

export interface ControlPlaneProcess {
  gossipAddress: string;
  apiPort: number;
  /** The HTTPS port, when started with TLS files. */
  securePort: number | undefined;
  logs: string[];
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A real `outrigger control-plane` process on loopback, resolved at its `ready` log line. */
export async function startControlPlaneProcess(options: { config: string; keys: MeshKeys; name: string; gossipPort?: number; join?: string[]; stateDir?: string; extraArgs?: string[] }): Promise<ControlPlaneProcess> {
  const args = [
    ...SIDECAR_NODE_FLAGS,
    CLI,
    'control-plane',
    '--config', options.config,
    '--signing-key', options.keys.signingKey,
    '--gossip-key', options.keys.gossipKey,
    '--name', options.name,
    '--gossip-port', String(options.gossipPort ?? 0),
    '--api-port', '0',
    '--log-format', 'json',
    ...(options.join ? ['--join', options.join.join(',')] : []),
    ...(options.stateDir ? ['--state-dir', options.stateDir] : []),
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  let buffered = '';
  const ready = new Promise<{ gossip: string; api: string; secure?: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`control plane not ready in 15 s:\n${logs.join('\n')}`)), 15_000);
    child.stderr.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        logs.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; gossip?: string; api?: string; secure?: string };
          if (entry.msg === 'ready' && entry.gossip && entry.api) {
            clearTimeout(timer);
            resolve({ gossip: entry.gossip, api: entry.api, ...(entry.secure ? { secure: entry.secure } : {}) });
          }
        } catch {
          // not JSON; kept in logs
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`control plane exited with code ${code}:\n${logs.join('\n')}`));
    });
  });
  const { gossip, api, secure } = await ready;
  const port = (address: string): number => Number(address.slice(address.lastIndexOf(':') + 1));
  return {
    gossipAddress: gossip,
    apiPort: port(api),
    securePort: secure ? port(secure) : undefined,
    logs,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await once(child, 'exit');
      clearTimeout(timer);
    },
  };
}

/** A sidecar that joins the mesh and takes its config from snapshots only. */
/** `gossipPort` 0 (the default) picks a free port; the process's `gossipAddress` says which. */
export function startMeshSidecarProcess(options: { service: string; app: string; keys: MeshKeys; join: string[]; gossipPort?: number; name: string; stateDir?: string }): Promise<SidecarProcess> {
  return startSidecarProcess({
    service: options.service,
    app: options.app,
    extraArgs: [
      '--join', options.join.join(','),
      '--gossip-port', String(options.gossipPort ?? 0),
      '--mesh-key', options.keys.publicKey,
      '--gossip-key', options.keys.gossipKey,
      '--name', options.name,
      ...(options.stateDir ? ['--state-dir', options.stateDir] : []),
    ],
  });
}
