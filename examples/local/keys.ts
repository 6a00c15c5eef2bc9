import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKey } from '../../gossip/keyring.ts';
import { generateSigningKeys } from '../../policy/snapshot/keys.ts';

export interface DemoKeys {
  signingKey: string;
  publicKey: string;
  gossipKey: string;
}

/** Fresh keys for each run, as `outrigger keygen` writes them: the snapshot signing pair and the gossip key. */
export function writeDemoKeys(dir: string): DemoKeys {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKeyPem, publicKeyPem } = generateSigningKeys();
  const keys = { signingKey: join(dir, 'signing-key.pem'), publicKey: join(dir, 'signing-key.pub.pem'), gossipKey: join(dir, 'gossip.key') };
  writeFileSync(keys.signingKey, privateKeyPem, { mode: 0o600 });
  writeFileSync(keys.publicKey, publicKeyPem);
  writeFileSync(keys.gossipKey, `${Buffer.from(generateKey()).toString('base64')}\n`, { mode: 0o600 });
  return keys;
}
