import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateSigningKeys, keyId, loadPrivateKey, loadPublicKey, SigningKeyError } from './keys.ts';

describe('signing keys', () => {
  it('generates an Ed25519 pair in PEM that loads back', () => {
    const { privateKeyPem, publicKeyPem } = generateSigningKeys();
    assert.match(privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
    assert.match(publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(loadPrivateKey(privateKeyPem).asymmetricKeyType, 'ed25519');
    assert.equal(loadPublicKey(Buffer.from(publicKeyPem)).type, 'public');
  });

  it('derives the key id from the DER SPKI, the same from either half of the pair', () => {
    const { privateKeyPem, publicKeyPem } = generateSigningKeys();
    const publicKey = loadPublicKey(publicKeyPem);
    const expected = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
    assert.equal(keyId(publicKey), expected);
    assert.equal(keyId(loadPrivateKey(privateKeyPem)), expected);
    assert.notEqual(keyId(loadPublicKey(generateSigningKeys().publicKeyPem)), expected);
  });

  it('refuses a private key where a public key belongs, and the reverse', () => {
    const { privateKeyPem, publicKeyPem } = generateSigningKeys();
    assert.throws(() => loadPublicKey(privateKeyPem), /this is a private key/);
    assert.throws(() => loadPrivateKey(publicKeyPem), /not a PEM private key/);
  });

  it('says why other input is unusable', () => {
    assert.throws(() => loadPublicKey('hello'), (e: unknown) => e instanceof SigningKeyError && /not a PEM public key/.test(e.message));
    assert.throws(() => loadPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'), /cannot read the public key/);
    const ec = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    assert.throws(() => loadPublicKey(ec.publicKey), /expected an Ed25519 public key, got ec/);
    assert.throws(() => loadPrivateKey(ec.privateKey), /expected an Ed25519 private key, got ec/);
    const encrypted = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    assert.throws(() => loadPrivateKey(encrypted.privateKey), /encrypted with a passphrase/);
  });
});
