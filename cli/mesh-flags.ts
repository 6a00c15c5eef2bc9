import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Keyring, parseKey } from '../gossip/keyring.ts';
import { loadPrivateKey, loadPublicKey } from '../policy/snapshot/keys.ts';
import { parseHostPort, type FlagSpec } from './options.ts';

/** Gossip flags shared by `outrigger sidecar` and `outrigger control-plane`. */
export const GOSSIP_FLAGS: Record<string, FlagSpec> = {
  join: { type: 'string', env: 'OUTRIGGER_JOIN', description: 'mesh members to join through, comma-separated', placeholder: 'HOST:PORT,…' },
  'gossip-host': { type: 'string', env: 'OUTRIGGER_GOSSIP_HOST', default: '127.0.0.1', description: 'address the gossip port binds (UDP and TCP)', placeholder: 'ADDR' },
  'gossip-port': { type: 'string', env: 'OUTRIGGER_GOSSIP_PORT', default: '7946', description: 'gossip port (0: any free one)', placeholder: 'PORT' },
  'advertise-host': { type: 'string', env: 'OUTRIGGER_ADVERTISE_HOST', description: 'address other members reach this one at (default: --gossip-host; in Kubernetes the pod IP)', placeholder: 'ADDR' },
  'gossip-key': { type: 'string', env: 'OUTRIGGER_GOSSIP_KEY', description: 'file of base64 AES keys, one per line, the first encrypts; all members need one in common', placeholder: 'FILE' },
  'cluster-label': { type: 'string', env: 'OUTRIGGER_CLUSTER_LABEL', default: '', description: 'authenticated with every encrypted packet: meshes sharing a key but not a label ignore each other', placeholder: 'LABEL' },
  'state-dir': { type: 'string', env: 'OUTRIGGER_STATE_DIR', description: 'where the last good snapshot is kept across restarts', placeholder: 'DIR' },
};

export function parseJoin(value: string | boolean | undefined): string[] {
  if (typeof value !== 'string' || value.trim() === '') return [];
  return value.split(',').map((seed) => parseHostPort(seed.trim(), 'join'));
}

/** A keyring from a file of base64 keys, one per line (blank lines and `#` comments ignored). */
export function readKeyring(file: string | boolean | undefined): Keyring | undefined {
  if (typeof file !== 'string') return undefined;
  const lines = readText(file, 'gossip-key').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new Error(`--gossip-key ${file} holds no key`);
  try {
    return new Keyring(lines.map((line) => parseKey(line)));
  } catch (error) {
    throw new Error(`--gossip-key ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** Every public key in a PEM file: more than one while a signing key rotates. */
export function readPublicKeys(file: string, flag: string): KeyObject[] {
  const text = readText(file, flag);
  const blocks = text.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`--${flag} ${file} holds no PEM public key`);
  try {
    return blocks.map((block) => loadPublicKey(block));
  } catch (error) {
    throw new Error(`--${flag} ${file}: ${(error as Error).message}`, { cause: error });
  }
}

export function readPrivateKey(file: string, flag: string): KeyObject {
  try {
    return loadPrivateKey(readText(file, flag));
  } catch (error) {
    throw new Error(`--${flag} ${file}: ${(error as Error).message}`, { cause: error });
  }
}

function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`--${flag}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}
