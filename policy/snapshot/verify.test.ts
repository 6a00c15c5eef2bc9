import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sign } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generateSigningKeys, keyId, loadPrivateKey, loadPublicKey } from './keys.ts';
import { signSnapshot } from './sign.ts';
import { encodeSignedSnapshot, encodeSnapshotPayload, makeSnapshot, signingInput } from './snapshot.ts';
import type { Snapshot, SnapshotFile } from './snapshot.ts';
import { verifySnapshot } from './verify.ts';
import type { RejectReason, VerifyResult } from './verify.ts';

const VALID = join(import.meta.dirname, '..', 'testdata', 'valid');
const FILES: SnapshotFile[] = ['endpoints.yaml', 'mesh.yaml', 'policies/catalog.yml', 'routes.yaml'].map((name) => ({
  name,
  text: readFileSync(join(VALID, name), 'utf8'),
}));
const KEYS = generateSigningKeys();
const PRIVATE = loadPrivateKey(KEYS.privateKeyPem);
const PUBLIC = loadPublicKey(KEYS.publicKeyPem);
const OTHER = generateSigningKeys();

function encoded(snapshot: Snapshot, privateKey = PRIVATE): Uint8Array {
  return encodeSignedSnapshot(signSnapshot(snapshot, privateKey));
}

function rejected(result: VerifyResult, reason: RejectReason): string {
  if (result.ok) assert.fail(`expected ${reason}, got ok`);
  assert.equal(result.reason, reason, result.message);
  return result.message;
}

describe('verifySnapshot accepts', () => {
  it('a well-signed, valid snapshot, and returns its policy with file names from the snapshot', () => {
    const result = verifySnapshot(encoded(makeSnapshot(4, FILES)), { publicKeys: [PUBLIC] });
    assert.ok(result.ok && !result.current, result.ok ? '' : result.message);
    assert.equal(result.snapshot.version, 4);
    assert.deepEqual(result.policy.files, ['endpoints.yaml', 'mesh.yaml', 'policies/catalog.yml', 'routes.yaml']);
    assert.deepEqual(result.policy.routes.map((r) => [r.file, r.line]), [['routes.yaml', 3], ['routes.yaml', 43]]);
  });

  it('a newer version than the current one', () => {
    const current = makeSnapshot(4, FILES);
    const result = verifySnapshot(encoded(makeSnapshot(5, FILES)), { publicKeys: [PUBLIC], currentVersion: 4, currentHash: current.hash });
    assert.ok(result.ok && !result.current);
  });

  it('the snapshot already running as current, without a policy to apply', () => {
    const snapshot = makeSnapshot(4, FILES);
    const result = verifySnapshot(encoded(snapshot), { publicKeys: [PUBLIC], currentVersion: 4, currentHash: snapshot.hash });
    assert.deepEqual(result, { ok: true, current: true, snapshot });
  });

  it('any of several trusted keys (rotation)', () => {
    const keys = [loadPublicKey(OTHER.publicKeyPem), PUBLIC];
    assert.ok(verifySnapshot(encoded(makeSnapshot(1, FILES)), { publicKeys: keys }).ok);
    assert.ok(verifySnapshot(encoded(makeSnapshot(1, FILES), loadPrivateKey(OTHER.privateKeyPem)), { publicKeys: keys }).ok);
  });
});

describe('verifySnapshot rejects', () => {
  it('malformed bytes', () => {
    assert.match(rejected(verifySnapshot(Buffer.from('garbage'), { publicKeys: [PUBLIC] }), 'malformed'), /not an Outrigger snapshot/);
    const truncated = encoded(makeSnapshot(1, FILES)).subarray(0, 11);
    rejected(verifySnapshot(truncated, { publicKeys: [PUBLIC] }), 'malformed');
  });

  it('a well-signed payload that is not a snapshot, as malformed', () => {
    const payload = Buffer.from('{"version":1}');
    const signature = sign(null, signingInput(payload), PRIVATE);
    const bytes = encodeSignedSnapshot({ payload, signature, keyId: keyId(PUBLIC) });
    assert.match(rejected(verifySnapshot(bytes, { publicKeys: [PUBLIC] }), 'malformed'), /exactly "version", "hash" and "files"/);
  });

  it('an unsigned snapshot', () => {
    const bytes = encodeSignedSnapshot({ payload: encodeSnapshotPayload(makeSnapshot(1, FILES)), signature: new Uint8Array(0), keyId: '' });
    rejected(verifySnapshot(bytes, { publicKeys: [PUBLIC] }), 'unsigned');
  });

  it('a snapshot signed with another key', () => {
    const bytes = encoded(makeSnapshot(1, FILES), loadPrivateKey(OTHER.privateKeyPem));
    assert.match(rejected(verifySnapshot(bytes, { publicKeys: [PUBLIC] }), 'unknown-key'), new RegExp(keyId(PUBLIC)));
  });

  it('another key’s signature claiming a trusted key id', () => {
    const signed = signSnapshot(makeSnapshot(1, FILES), loadPrivateKey(OTHER.privateKeyPem));
    const bytes = encodeSignedSnapshot({ ...signed, keyId: keyId(PUBLIC) });
    rejected(verifySnapshot(bytes, { publicKeys: [PUBLIC] }), 'bad-signature');
  });

  it('a snapshot with one byte of a policy text changed', () => {
    const bytes = Buffer.from(encoded(makeSnapshot(1, FILES)));
    const at = bytes.indexOf('PeakEWMA');
    assert.ok(at > 0);
    bytes[at] = 'Q'.charCodeAt(0);
    rejected(verifySnapshot(bytes, { publicKeys: [PUBLIC] }), 'bad-signature');
  });

  it('a snapshot with one bit of its signature changed', () => {
    const signed = signSnapshot(makeSnapshot(1, FILES), PRIVATE);
    const signature = new Uint8Array(signed.signature);
    signature[10]! ^= 1;
    rejected(verifySnapshot(encodeSignedSnapshot({ ...signed, signature }), { publicKeys: [PUBLIC] }), 'bad-signature');
  });

  it('a signed snapshot whose hash does not match its files', () => {
    // signSnapshot refuses this, so sign the payload by hand, as a buggy or foreign signer might.
    const payload = encodeSnapshotPayload({ ...makeSnapshot(1, FILES), hash: 'f'.repeat(64) });
    const bytes = encodeSignedSnapshot({ payload, signature: sign(null, signingInput(payload), PRIVATE), keyId: keyId(PUBLIC) });
    assert.match(rejected(verifySnapshot(bytes, { publicKeys: [PUBLIC] }), 'hash-mismatch'), /claims hash f{64}, but its files hash to/);
  });

  it('a replayed older version as stale', () => {
    const old = encoded(makeSnapshot(3, FILES));
    const current = makeSnapshot(4, [...FILES, { name: 'extra.yaml', text: '# nothing\n' }]);
    const message = rejected(verifySnapshot(old, { publicKeys: [PUBLIC], currentVersion: 4, currentHash: current.hash }), 'stale');
    assert.match(message, /version 3 is older than the current version 4/);
  });

  it('the current version with different content as stale', () => {
    const current = makeSnapshot(4, [...FILES, { name: 'extra.yaml', text: '# nothing\n' }]);
    const message = rejected(verifySnapshot(encoded(makeSnapshot(4, FILES)), { publicKeys: [PUBLIC], currentVersion: 4, currentHash: current.hash }), 'stale');
    assert.match(message, /is the current version with different content/);
  });

  it('a well-signed snapshot with an invalid policy, pointing at file, line and field', () => {
    const files = FILES.map((f) => (f.name === 'routes.yaml' ? { ...f, text: f.text.replace('backendRequest: 1500ms', 'backendRequest: soon') } : f));
    const result = verifySnapshot(encoded(makeSnapshot(2, files)), { publicKeys: [PUBLIC] });
    const message = rejected(result, 'invalid-policy');
    assert.match(message, /1 policy error\(s\); first: routes\.yaml:23:25: spec\.rules\[0\]\.timeouts\.backendRequest: must be a Gateway API duration/);
    assert.ok(!result.ok);
    assert.deepEqual(result.errors?.map((e) => [e.file, e.line, e.path]), [['routes.yaml', 23, 'spec.rules[0].timeouts.backendRequest']]);
  });

  it('broken YAML in a well-signed snapshot as invalid-policy', () => {
    const bytes = encoded(makeSnapshot(2, [...FILES, { name: 'broken.yaml', text: 'kind: [\n' }]));
    assert.match(rejected(verifySnapshot(bytes, { publicKeys: [PUBLIC] }), 'invalid-policy'), /first: broken\.yaml:2:1: YAML: /);
  });
});

it('verifySnapshot passes load options on', () => {
  const routesOnly = FILES.filter((f) => f.name === 'routes.yaml');
  rejected(verifySnapshot(encoded(makeSnapshot(1, routesOnly)), { publicKeys: [PUBLIC] }), 'invalid-policy');
  assert.ok(verifySnapshot(encoded(makeSnapshot(1, routesOnly)), { publicKeys: [PUBLIC], loadOptions: { requireEndpoints: false } }).ok);
});
