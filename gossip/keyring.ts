/**
 * AES-GCM encryption of gossip packets and streams, as memberlist's keyring: the primary key seals, every key in the
 * ring opens, so keys rotate without downtime (add the new key everywhere, make it primary, then remove the old one).
 * Sealed layout: [version 1][12-byte random nonce][ciphertext][16-byte tag]; the label is authenticated data.
 */
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CipherGCMTypes } from 'node:crypto';

export const SEAL_VERSION = 1;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** Bytes `seal` adds to its plaintext. */
export const SEAL_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;

const KEY_SIZES = [16, 24, 32];

function algorithm(key: Uint8Array): CipherGCMTypes {
  return `aes-${key.length * 8}-gcm` as CipherGCMTypes;
}

function checkKey(key: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || !KEY_SIZES.includes(key.length)) {
    throw new RangeError(`a gossip key must be 16, 24 or 32 bytes (AES-128/192/256), got ${key?.length ?? 'none'}`);
  }
  return new Uint8Array(key);
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export class Keyring {
  /** Index 0 is the primary key. Copies: callers cannot change a key in place. */
  private ring: Uint8Array[];

  constructor(keys: readonly Uint8Array[]) {
    if (keys.length === 0) throw new RangeError('a keyring needs at least one key');
    this.ring = [];
    for (const key of keys) this.addKey(key);
  }

  get primaryKey(): Uint8Array {
    return new Uint8Array(this.ring[0]!);
  }

  /** Every key, the primary first. */
  get keys(): Uint8Array[] {
    return this.ring.map((key) => new Uint8Array(key));
  }

  /** Adds a key for opening; a key already in the ring is left where it is. */
  addKey(key: Uint8Array): void {
    const copy = checkKey(key);
    if (!this.ring.some((k) => sameKey(k, copy))) this.ring.push(copy);
  }

  /** Makes an installed key the primary one. */
  useKey(key: Uint8Array): void {
    const index = this.ring.findIndex((k) => sameKey(k, key));
    if (index < 0) throw new Error('cannot use a key that is not in the keyring: add it first');
    const [chosen] = this.ring.splice(index, 1);
    this.ring.unshift(chosen!);
  }

  /** Removes a secondary key; removing a key that is not in the ring does nothing. */
  removeKey(key: Uint8Array): void {
    const index = this.ring.findIndex((k) => sameKey(k, key));
    if (index === 0) throw new Error('cannot remove the primary key: make another key primary first');
    if (index > 0) this.ring.splice(index, 1);
  }

  seal(plaintext: Uint8Array, label: string): Uint8Array {
    const key = this.ring[0]!;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(algorithm(key), key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(label, 'utf8'));
    const body = cipher.update(plaintext);
    const final = cipher.final();
    const tag = cipher.getAuthTag();
    const sealed = new Uint8Array(SEAL_OVERHEAD + plaintext.length);
    sealed[0] = SEAL_VERSION;
    sealed.set(nonce, 1);
    sealed.set(body, 1 + NONCE_BYTES);
    sealed.set(final, 1 + NONCE_BYTES + body.length);
    sealed.set(tag, sealed.length - TAG_BYTES);
    return sealed;
  }

  /** The plaintext, or undefined when no key in the ring authenticates `sealed` with `label`. Never throws. */
  open(sealed: Uint8Array, label: string): Uint8Array | undefined {
    if (!(sealed instanceof Uint8Array) || sealed.length < SEAL_OVERHEAD || sealed[0] !== SEAL_VERSION) return undefined;
    if (typeof label !== 'string') return undefined;
    const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
    const ciphertext = sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    const aad = Buffer.from(label, 'utf8');
    for (const key of this.ring) {
      try {
        const decipher = createDecipheriv(algorithm(key), key, nonce, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad);
        decipher.setAuthTag(tag);
        const body = decipher.update(ciphertext);
        const final = decipher.final();
        const plaintext = new Uint8Array(body.length + final.length);
        plaintext.set(body);
        plaintext.set(final, body.length);
        return plaintext;
      } catch {
        // Authentication failed with this key: try the next one.
      }
    }
    return undefined;
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A key from its base64 text (surrounding whitespace ignored). The error never repeats the text: it is a secret. */
export function parseKey(text: string): Uint8Array {
  const trimmed = text.trim();
  if (trimmed.length === 0 || !BASE64.test(trimmed)) throw new Error('gossip key is not valid base64');
  const key = new Uint8Array(Buffer.from(trimmed, 'base64'));
  if (!KEY_SIZES.includes(key.length)) {
    throw new Error(`gossip key must be base64 of 16, 24 or 32 bytes (AES-128/192/256), got ${key.length} bytes`);
  }
  return key;
}

/** A new random AES-256 key. */
export function generateKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}
