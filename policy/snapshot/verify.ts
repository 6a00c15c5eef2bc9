import { verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { loadPolicyTexts } from '../load.ts';
import type { ConfigError, LoadOptions, PolicySet } from '../load.ts';
import { keyId } from './keys.ts';
import { contentHash, decodeSignedSnapshot, decodeSnapshotPayload, signingInput } from './snapshot.ts';
import type { SignedSnapshot, Snapshot } from './snapshot.ts';

export type RejectReason = 'malformed' | 'unsigned' | 'bad-signature' | 'unknown-key' | 'hash-mismatch' | 'stale' | 'invalid-policy';

export interface VerifyOptions {
  /** Keys whose signatures are trusted; more than one during a key rotation. */
  publicKeys: readonly KeyObject[];
  /** Version and hash of the snapshot the member runs now, if any. */
  currentVersion?: number | undefined;
  currentHash?: string | undefined;
  /** Passed to loadPolicyTexts, e.g. `requireEndpoints: false` when endpoints come from discovery. */
  loadOptions?: LoadOptions | undefined;
}

/**
 * `current: true` means the snapshot is genuine and is exactly the one already running (same version and hash):
 * nothing to apply, nothing to report. Its policy is not validated again, so only `current: false` carries one.
 */
export type VerifyResult =
  | { ok: true; current: false; snapshot: Snapshot; policy: PolicySet }
  | { ok: true; current: true; snapshot: Snapshot }
  | { ok: false; reason: RejectReason; message: string; errors?: ConfigError[] };

/**
 * Checks a received or persisted snapshot, in order: envelope decodes; it is signed; by a trusted key; the
 * signature holds; the payload decodes; its hash matches its files; it is newer than the current one; its policy
 * validates. The payload is parsed only once its signature holds, so unauthenticated bytes never reach the
 * JSON and YAML parsers. Never throws for bad input.
 */
export function verifySnapshot(bytes: Uint8Array, options: VerifyOptions): VerifyResult {
  const trusted = new Map<string, KeyObject>();
  for (const key of options.publicKeys) {
    if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') throw new TypeError('verifySnapshot trusts Ed25519 public keys only');
    trusted.set(keyId(key), key);
  }
  let signed: SignedSnapshot;
  try {
    signed = decodeSignedSnapshot(bytes);
  } catch (error) {
    return reject('malformed', describe(error));
  }
  if (signed.signature.byteLength === 0) return reject('unsigned', 'the snapshot carries no signature');
  const key = trusted.get(signed.keyId);
  if (!key) return reject('unknown-key', `signed with key ${signed.keyId}, which is not among the ${trusted.size} trusted key(s) (${[...trusted.keys()].join(', ')})`);
  if (!verify(null, signingInput(signed.payload), key, signed.signature)) {
    return reject('bad-signature', `the signature does not match the content for key ${signed.keyId}`);
  }
  let snapshot: Snapshot;
  try {
    snapshot = decodeSnapshotPayload(signed.payload);
  } catch (error) {
    return reject('malformed', describe(error));
  }
  const actual = contentHash(snapshot.files);
  if (actual !== snapshot.hash) return reject('hash-mismatch', `snapshot version ${snapshot.version} claims hash ${snapshot.hash}, but its files hash to ${actual}`);
  const { currentVersion, currentHash } = options;
  if (currentVersion !== undefined && snapshot.version <= currentVersion) {
    if (snapshot.version === currentVersion && snapshot.hash === currentHash) return { ok: true, current: true, snapshot };
    const detail =
      snapshot.version !== currentVersion
        ? `older than the current version ${currentVersion} (a replay?)`
        : currentHash === undefined
          ? 'the current version (pass currentHash to recognise it as current)'
          : `the current version with different content (hash ${snapshot.hash.slice(0, 12)}…, running ${currentHash.slice(0, 12)}…)`;
    return reject('stale', `snapshot version ${snapshot.version} is ${detail}`);
  }
  const loaded = loadPolicyTexts(snapshot.files.map(({ name, text }) => ({ file: name, text })), options.loadOptions);
  if (!loaded.ok) {
    const [first] = loaded.errors;
    const where = first ? `; first: ${first.file}:${first.line}:${first.column}: ${first.path ? `${first.path}: ` : ''}${first.message}` : '';
    return { ok: false, reason: 'invalid-policy', message: `snapshot version ${snapshot.version} has ${loaded.errors.length} policy error(s)${where}`, errors: loaded.errors };
  }
  return { ok: true, current: false, snapshot, policy: loaded.policy };
}

function reject(reason: RejectReason, message: string): VerifyResult {
  return { ok: false, reason, message };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
