import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export interface SigningKeysPem {
  /** PKCS#8 PEM: stays with the control plane */
  privateKeyPem: string;
  /** SPKI PEM: given to every member that verifies snapshots */
  publicKeyPem: string;
}

/** Thrown when a key cannot be used for snapshots; the message says why. */
export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
}

export function generateSigningKeys(): SigningKeysPem {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

export function loadPrivateKey(pem: string | Uint8Array): KeyObject {
  const text = pemText(pem);
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) {
    throw new SigningKeyError('not a PEM private key: expected a "-----BEGIN PRIVATE KEY-----" block');
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    // OpenSSL's own message for this is "interrupted or cancelled".
    throw new SigningKeyError('the private key is encrypted with a passphrase; give an unencrypted PKCS#8 key');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch (error) {
    throw new SigningKeyError(`cannot read the private key: ${describe(error)}`);
  }
  return requireEd25519(key, 'private');
}

/** Refuses a private key: members only verify, and a private key given to them would leak signing power. */
export function loadPublicKey(pem: string | Uint8Array): KeyObject {
  const text = pemText(pem);
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) {
    throw new SigningKeyError('this is a private key; give members the public key ("-----BEGIN PUBLIC KEY-----") instead');
  }
  if (!text.includes('-----BEGIN PUBLIC KEY-----')) {
    throw new SigningKeyError('not a PEM public key: expected a "-----BEGIN PUBLIC KEY-----" block');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: 'pem' });
  } catch (error) {
    throw new SigningKeyError(`cannot read the public key: ${describe(error)}`);
  }
  return requireEd25519(key, 'public');
}

/** First 16 hex digits of sha256 over the DER SPKI of the public key (derived first when given a private key). */
export function keyId(key: KeyObject): string {
  if (key.type === 'secret') throw new SigningKeyError('a key id needs an asymmetric key, got a secret key');
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

function requireEd25519(key: KeyObject, kind: 'private' | 'public'): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new SigningKeyError(`expected an Ed25519 ${kind} key, got ${key.asymmetricKeyType ?? 'an unknown key type'}`);
  }
  return key;
}

function pemText(pem: string | Uint8Array): string {
  return typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
