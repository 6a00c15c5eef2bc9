import assert from 'node:assert/strict';
import { verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateSigningKeys, keyId, loadPrivateKey, loadPublicKey } from './keys.ts';
import { signSnapshot } from './sign.ts';
import { encodeSignedSnapshot, makeSnapshot, signingInput } from './snapshot.ts';

const KEYS = generateSigningKeys();
const FILES = [
  { name: 'routes.yaml', text: 'kind: HTTPRoute\n' },
  { name: 'endpoints.yaml', text: 'kind: ServiceEndpoints\n' },
];

describe('signSnapshot', () => {
  it('signs the payload with the key and names the key', () => {
    const signed = signSnapshot(makeSnapshot(1, FILES), loadPrivateKey(KEYS.privateKeyPem));
    const publicKey = loadPublicKey(KEYS.publicKeyPem);
    assert.equal(signed.keyId, keyId(publicKey));
    assert.equal(signed.signature.byteLength, 64);
    assert.ok(verify(null, signingInput(signed.payload), publicKey, signed.signature));
  });

  it('is deterministic: two replicas with the same key, version and content produce identical bytes', () => {
    // Separate key objects and a different file order, as two control-plane processes would have.
    const a = encodeSignedSnapshot(signSnapshot(makeSnapshot(7, FILES), loadPrivateKey(KEYS.privateKeyPem)));
    const b = encodeSignedSnapshot(signSnapshot(makeSnapshot(7, [...FILES].reverse()), loadPrivateKey(KEYS.privateKeyPem)));
    assert.deepEqual(a, b);
    const c = encodeSignedSnapshot(signSnapshot(makeSnapshot(8, FILES), loadPrivateKey(KEYS.privateKeyPem)));
    assert.notDeepEqual(a, c);
  });

  it('refuses a snapshot whose hash does not match its files, and a public key', () => {
    const snapshot = { ...makeSnapshot(1, FILES), hash: '0'.repeat(64) };
    assert.throws(() => signSnapshot(snapshot, loadPrivateKey(KEYS.privateKeyPem)), /does not match its files/);
    assert.throws(() => signSnapshot(makeSnapshot(1, FILES), loadPublicKey(KEYS.publicKeyPem)), /Ed25519 private key/);
  });
});
