import { createHash } from 'node:crypto';

/** One policy file of a snapshot; `name` is relative to the policy folder, with `/` separators. */
export interface SnapshotFile {
  name: string;
  text: string;
}

/** A whole policy folder at one version. `files` are sorted by name; `hash` is contentHash(files). */
export interface Snapshot {
  version: number;
  hash: string;
  files: SnapshotFile[];
}

export interface SignedSnapshot {
  /** encodeSnapshotPayload(snapshot): the exact bytes that were signed */
  payload: Uint8Array;
  /** Ed25519 over signingInput(payload); empty when unsigned */
  signature: Uint8Array;
  /** keyId() of the signing key; "" when unsigned */
  keyId: string;
}

/** Bound on an encoded signed snapshot, so a peer cannot make a member buffer or parse without limit. */
export const MAX_SNAPSHOT_BYTES = 32 * 1024 * 1024;
export const MAX_SNAPSHOT_FILES = 10_000;
export const MAX_FILE_NAME_LENGTH = 1024;

/** Thrown by the encoders and decoders for anything that is not a well-formed snapshot. */
export class SnapshotFormatError extends Error {
  override name = 'SnapshotFormatError';
}

const MAGIC = Buffer.from('ORSNAP1\n', 'latin1');
const MAX_HEADER_BYTES = 1024;
const SIGNATURE_BYTES = 64;
const HASH = /^[0-9a-f]{64}$/;
const KEY_ID = /^(?:[0-9a-f]{16})?$/;
/** Prefixed to the payload before signing, so a signature made with the same key for anything else never verifies as a snapshot. */
const SIGNING_CONTEXT = Buffer.from('outrigger.dev/snapshot/v1\n', 'latin1');

/**
 * sha256 hex over the files sorted by name, each as `<name bytes>\n<name><text bytes>\n<text>` (UTF-8): the lengths
 * make the encoding unambiguous, so moving bytes between names, texts or files always changes the hash. Unlike
 * PolicySet.hash it covers the names too, so renaming a file is a new snapshot.
 */
export function contentHash(files: readonly SnapshotFile[]): string {
  const hash = createHash('sha256').update(`${files.length}\n`);
  for (const { name, text } of sortByName(files)) {
    hash.update(`${Buffer.byteLength(name, 'utf8')}\n`).update(name, 'utf8');
    hash.update(`${Buffer.byteLength(text, 'utf8')}\n`).update(text, 'utf8');
  }
  return hash.digest('hex');
}

/** A snapshot of `files` at `version`: files sorted and copied, hash computed. Throws SnapshotFormatError on bad input. */
export function makeSnapshot(version: number, files: readonly SnapshotFile[]): Snapshot {
  const sorted = sortByName(files).map(({ name, text }) => ({ name, text }));
  const snapshot = { version, hash: contentHash(sorted), files: sorted };
  checkSnapshot(snapshot);
  return snapshot;
}

/**
 * The canonical payload: compact JSON `{"version":…,"hash":…,"files":[{"name":…,"text":…}…]}` in that key order,
 * files sorted by name. Nothing time- or host-dependent goes in, so equal snapshots encode to equal bytes.
 */
export function encodeSnapshotPayload(snapshot: Snapshot): Uint8Array {
  const files = sortByName(snapshot.files).map(({ name, text }) => ({ name, text }));
  const canonical = { version: snapshot.version, hash: snapshot.hash, files };
  checkSnapshot(canonical);
  return new TextEncoder().encode(JSON.stringify(canonical));
}

/** Decodes a payload, accepting only the canonical encoding, so one snapshot has exactly one payload. */
export function decodeSnapshotPayload(payload: Uint8Array): Snapshot {
  if (payload.byteLength > MAX_SNAPSHOT_BYTES) throw new SnapshotFormatError(`payload is ${payload.byteLength} bytes; the limit is ${MAX_SNAPSHOT_BYTES}`);
  const value = parseJson(payload, 'payload');
  if (!isRecord(value) || !hasExactKeys(value, ['version', 'hash', 'files'])) {
    throw new SnapshotFormatError('payload must be an object with exactly "version", "hash" and "files"');
  }
  const { version, hash, files } = value;
  if (typeof version !== 'number' || typeof hash !== 'string' || !Array.isArray(files)) {
    throw new SnapshotFormatError('payload "version" must be a number, "hash" a string and "files" an array');
  }
  if (files.length > MAX_SNAPSHOT_FILES) throw new SnapshotFormatError(`payload has ${files.length} files; the limit is ${MAX_SNAPSHOT_FILES}`);
  const checked: SnapshotFile[] = files.map((file: unknown, i) => {
    if (!isRecord(file) || !hasExactKeys(file, ['name', 'text']) || typeof file.name !== 'string' || typeof file.text !== 'string') {
      throw new SnapshotFormatError(`payload files[${i}] must be an object with exactly a string "name" and a string "text"`);
    }
    return { name: file.name, text: file.text };
  });
  const snapshot: Snapshot = { version, hash, files: checked };
  checkSnapshot(snapshot);
  const canonical = encodeSnapshotPayload(snapshot);
  if (!Buffer.from(canonical).equals(payload)) throw new SnapshotFormatError('payload is not in canonical form (key order, file order, spacing or escapes)');
  return snapshot;
}

/**
 * Wire format: the 8 bytes `ORSNAP1\n`, a big-endian u32 header length, a JSON header
 * `{"keyId":…,"signature":<base64>}`, then the payload bytes as they were signed.
 */
export function encodeSignedSnapshot(signed: SignedSnapshot): Uint8Array {
  if (!KEY_ID.test(signed.keyId)) throw new SnapshotFormatError(`keyId must be 16 lowercase hex digits or empty, got ${JSON.stringify(signed.keyId)}`);
  if (signed.signature.byteLength !== 0 && signed.signature.byteLength !== SIGNATURE_BYTES) {
    throw new SnapshotFormatError(`signature must be ${SIGNATURE_BYTES} bytes or empty, got ${signed.signature.byteLength}`);
  }
  const header = Buffer.from(JSON.stringify({ keyId: signed.keyId, signature: Buffer.from(signed.signature).toString('base64') }), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.byteLength);
  const total = MAGIC.byteLength + 4 + header.byteLength + signed.payload.byteLength;
  if (total > MAX_SNAPSHOT_BYTES) throw new SnapshotFormatError(`signed snapshot would be ${total} bytes; the limit is ${MAX_SNAPSHOT_BYTES}`);
  return Buffer.concat([MAGIC, length, header, signed.payload]);
}

/**
 * Decodes the envelope only; the payload is returned as bytes, to be decoded after its signature is checked.
 * Throws SnapshotFormatError, never anything else, on malformed input.
 */
export function decodeSignedSnapshot(bytes: Uint8Array): SignedSnapshot {
  if (!(bytes instanceof Uint8Array)) throw new SnapshotFormatError('snapshot must be bytes');
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.byteLength > MAX_SNAPSHOT_BYTES) throw new SnapshotFormatError(`snapshot is ${buffer.byteLength} bytes; the limit is ${MAX_SNAPSHOT_BYTES}`);
  if (buffer.byteLength < MAGIC.byteLength || !buffer.subarray(0, MAGIC.byteLength).equals(MAGIC)) {
    throw new SnapshotFormatError('not an Outrigger snapshot (missing the ORSNAP1 header)');
  }
  if (buffer.byteLength < MAGIC.byteLength + 4) throw new SnapshotFormatError('snapshot is truncated inside its header');
  const headerLength = buffer.readUInt32BE(MAGIC.byteLength);
  const headerStart = MAGIC.byteLength + 4;
  if (headerLength > MAX_HEADER_BYTES || headerStart + headerLength > buffer.byteLength) {
    throw new SnapshotFormatError(`snapshot header length ${headerLength} is out of bounds`);
  }
  const header = parseJson(buffer.subarray(headerStart, headerStart + headerLength), 'header');
  if (!isRecord(header) || !hasExactKeys(header, ['keyId', 'signature']) || typeof header.keyId !== 'string' || typeof header.signature !== 'string') {
    throw new SnapshotFormatError('snapshot header must be an object with exactly a string "keyId" and a string "signature"');
  }
  if (!KEY_ID.test(header.keyId)) throw new SnapshotFormatError(`snapshot keyId must be 16 lowercase hex digits or empty, got ${JSON.stringify(header.keyId)}`);
  const signature = Buffer.from(header.signature, 'base64');
  // Node's base64 decoder skips junk characters; re-encoding catches them.
  if (signature.toString('base64') !== header.signature) throw new SnapshotFormatError('snapshot signature is not canonical base64');
  if (signature.byteLength !== 0 && signature.byteLength !== SIGNATURE_BYTES) {
    throw new SnapshotFormatError(`snapshot signature is ${signature.byteLength} bytes; Ed25519 signatures are ${SIGNATURE_BYTES}`);
  }
  if (signature.byteLength !== 0 && header.keyId === '') throw new SnapshotFormatError('snapshot is signed but names no keyId');
  const payload = new Uint8Array(buffer.subarray(headerStart + headerLength));
  return { payload, signature: new Uint8Array(signature), keyId: header.keyId };
}

/** The bytes an Ed25519 signature covers: a fixed context string, then the payload. */
export function signingInput(payload: Uint8Array): Buffer {
  return Buffer.concat([SIGNING_CONTEXT, payload]);
}

function checkSnapshot(snapshot: Snapshot): void {
  const { version, hash, files } = snapshot;
  if (!Number.isSafeInteger(version) || version < 1) throw new SnapshotFormatError(`version must be a positive integer, got ${version}`);
  if (!HASH.test(hash)) throw new SnapshotFormatError('hash must be 64 lowercase hex digits');
  if (files.length > MAX_SNAPSHOT_FILES) throw new SnapshotFormatError(`${files.length} files; the limit is ${MAX_SNAPSHOT_FILES}`);
  let previous: string | undefined;
  for (const { name, text } of files) {
    const problem = nameProblem(name);
    if (problem) throw new SnapshotFormatError(`file name ${JSON.stringify(name)} ${problem}`);
    if (previous !== undefined && previous >= name) {
      throw new SnapshotFormatError(previous === name ? `file name ${JSON.stringify(name)} appears twice` : 'files are not sorted by name');
    }
    // A lone surrogate would be hashed as U+FFFD, letting two different texts share a hash.
    if (!text.isWellFormed()) throw new SnapshotFormatError(`file ${JSON.stringify(name)} holds invalid Unicode (a lone surrogate)`);
    previous = name;
  }
}

/** Names end up in error messages and may one day become paths, so only plain relative paths are allowed. */
function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > MAX_FILE_NAME_LENGTH) return `is longer than ${MAX_FILE_NAME_LENGTH} characters`;
  if (!name.isWellFormed()) return 'holds invalid Unicode';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(name)) return 'holds a control character or a backslash';
  if (name.split('/').some((part) => part === '' || part === '.' || part === '..')) return 'must be a relative path without empty, "." or ".." parts';
  return undefined;
}

function sortByName<T extends { name: string }>(files: readonly T[]): T[] {
  return [...files].sort((a, b) => (a.name === b.name ? 0 : a.name < b.name ? -1 : 1));
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  let text: string;
  try {
    // ignoreBOM keeps a BOM in the text, where JSON.parse rejects it, rather than silently dropping it.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new SnapshotFormatError(`snapshot ${what} is not valid UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SnapshotFormatError(`snapshot ${what} is not valid JSON: ${(error as Error).message}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasExactKeys(value: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(value);
  return own.length === keys.length && keys.every((key) => Object.hasOwn(value, key));
}
