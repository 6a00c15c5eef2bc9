import { createPublicKey, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { keyId } from './keys.ts';
import { contentHash, encodeSnapshotPayload, signingInput, SnapshotFormatError } from './snapshot.ts';
import type { SignedSnapshot, Snapshot } from './snapshot.ts';

/**
 * Signs the canonical payload of `snapshot`. Ed25519 signatures are deterministic, so replicas holding the same
 * key sign the same version and content into byte-identical snapshots. Throws if `snapshot.hash` does not match
 * its files, so a signer never vouches for an inconsistent snapshot.
 */
export function signSnapshot(snapshot: Snapshot, privateKey: KeyObject): SignedSnapshot {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('signSnapshot needs an Ed25519 private key');
  }
  const expected = contentHash(snapshot.files);
  if (snapshot.hash !== expected) throw new SnapshotFormatError(`snapshot hash ${snapshot.hash} does not match its files (${expected})`);
  const payload = encodeSnapshotPayload(snapshot);
  const signature = sign(null, signingInput(payload), privateKey);
  return { payload, signature: new Uint8Array(signature), keyId: keyId(createPublicKey(privateKey)) };
}
