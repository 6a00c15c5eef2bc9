import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  contentHash,
  decodeSignedSnapshot,
  decodeSnapshotPayload,
  encodeSignedSnapshot,
  encodeSnapshotPayload,
  makeSnapshot,
  MAX_SNAPSHOT_BYTES,
  MAX_SNAPSHOT_FILES,
  SnapshotFormatError,
} from './snapshot.ts';
import type { SignedSnapshot, Snapshot } from './snapshot.ts';

const FILES = [
  { name: 'routes.yaml', text: 'kind: HTTPRoute\n' },
  { name: 'a/endpoints.yml', text: 'kind: ServiceEndpoints\n# é ✓ 𝄞\n' },
];

function signed(snapshot: Snapshot = makeSnapshot(3, FILES)): SignedSnapshot {
  return { payload: encodeSnapshotPayload(snapshot), signature: new Uint8Array(64).fill(7), keyId: '0123456789abcdef' };
}

function payloadOf(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

describe('contentHash', () => {
  it('does not depend on the order files are given in', () => {
    assert.equal(contentHash(FILES), contentHash([...FILES].reverse()));
    assert.match(contentHash(FILES), /^[0-9a-f]{64}$/);
  });

  it('changes when bytes move between a name and a text, or between files, or a file is renamed', () => {
    assert.notEqual(contentHash([{ name: 'a', text: 'bc' }]), contentHash([{ name: 'ab', text: 'c' }]));
    assert.notEqual(
      contentHash([{ name: 'a', text: 'xy' }, { name: 'b', text: 'z' }]),
      contentHash([{ name: 'a', text: 'x' }, { name: 'b', text: 'yz' }]),
    );
    assert.notEqual(contentHash([{ name: 'a.yaml', text: 'x' }]), contentHash([{ name: 'b.yaml', text: 'x' }]));
    assert.notEqual(contentHash([]), contentHash([{ name: 'a', text: '' }]));
  });
});

describe('snapshot payload', () => {
  it('round-trips, with files sorted by name', () => {
    const snapshot = makeSnapshot(3, FILES);
    assert.deepEqual(snapshot.files.map((f) => f.name), ['a/endpoints.yml', 'routes.yaml']);
    assert.deepEqual(decodeSnapshotPayload(encodeSnapshotPayload(snapshot)), snapshot);
  });

  it('encodes equal snapshots to equal bytes whatever the file order', () => {
    const a = makeSnapshot(3, FILES);
    const b = { ...a, files: [...a.files].reverse() };
    assert.deepEqual(encodeSnapshotPayload(a), encodeSnapshotPayload(b));
  });

  it('accepts only the canonical encoding', () => {
    const snapshot = makeSnapshot(3, FILES);
    const pretty = Buffer.from(JSON.stringify(snapshot, null, 2), 'utf8');
    assert.throws(() => decodeSnapshotPayload(pretty), /not in canonical form/);
    const reordered = payloadOf({ hash: snapshot.hash, version: 3, files: snapshot.files });
    assert.throws(() => decodeSnapshotPayload(reordered), /not in canonical form/);
    const escaped = Buffer.from(Buffer.from(encodeSnapshotPayload(snapshot)).toString('utf8').replace('"version"', '"\\u0076ersion"'));
    assert.throws(() => decodeSnapshotPayload(escaped), /not in canonical form/);
  });

  it('rejects wrong shapes, bad versions and hashes, unsorted or duplicate files, bad names and lone surrogates', () => {
    const { hash, files } = makeSnapshot(3, FILES);
    const cases: [unknown, RegExp][] = [
      [[], /exactly "version", "hash" and "files"/],
      [{ version: 3, hash, files, extra: 1 }, /exactly "version"/],
      [{ version: '3', hash, files }, /must be a number/],
      [{ version: 0, hash, files }, /positive integer/],
      [{ version: 1.5, hash, files }, /positive integer/],
      [{ version: 3, hash: 'abc', files }, /64 lowercase hex/],
      [{ version: 3, hash, files: [{ name: 'a' }] }, /files\[0\]/],
      [{ version: 3, hash, files: [...files].reverse() }, /not sorted/],
      [{ version: 3, hash, files: [files[0], files[0]] }, /appears twice/],
      [{ version: 3, hash, files: [{ name: '../etc/passwd', text: '' }] }, /relative path/],
      [{ version: 3, hash, files: [{ name: '/etc/passwd', text: '' }] }, /relative path/],
      [{ version: 3, hash, files: [{ name: 'a//b', text: '' }] }, /relative path/],
      [{ version: 3, hash, files: [{ name: '', text: '' }] }, /is empty/],
      [{ version: 3, hash, files: [{ name: 'a\\b', text: '' }] }, /backslash/],
      [{ version: 3, hash, files: [{ name: 'a', text: '\ud800' }] }, /lone surrogate/],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => decodeSnapshotPayload(payloadOf(value)), (error: unknown) => error instanceof SnapshotFormatError && message.test(error.message), JSON.stringify(value));
    }
    assert.throws(() => decodeSnapshotPayload(Buffer.from([0xff, 0xfe])), /not valid UTF-8/);
    assert.throws(() => decodeSnapshotPayload(Buffer.from('{"version":')), /not valid JSON/);
  });

  it('bounds the number of files', () => {
    const many = Array.from({ length: MAX_SNAPSHOT_FILES + 1 }, (_, i) => ({ name: `f${String(i).padStart(5, '0')}.yaml`, text: '' }));
    assert.throws(() => makeSnapshot(1, many), /limit is 10000/);
    const payload = payloadOf({ version: 1, hash: contentHash(many), files: many });
    assert.throws(() => decodeSnapshotPayload(payload), /limit is 10000/);
    assert.doesNotThrow(() => makeSnapshot(1, many.slice(1)));
  });
});

describe('signed snapshot envelope', () => {
  it('round-trips', () => {
    const s = signed();
    const decoded = decodeSignedSnapshot(encodeSignedSnapshot(s));
    assert.deepEqual(decoded, s);
    const unsigned = { ...s, signature: new Uint8Array(0), keyId: '' };
    assert.deepEqual(decodeSignedSnapshot(encodeSignedSnapshot(unsigned)), unsigned);
  });

  it('rejects what is not a snapshot envelope with a clear error', () => {
    const good = Buffer.from(encodeSignedSnapshot(signed()));
    const header = (text: string) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(Buffer.byteLength(text));
      return Buffer.concat([Buffer.from('ORSNAP1\n'), length, Buffer.from(text), Buffer.from('{}')]);
    };
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(0), /missing the ORSNAP1 header/],
      [Buffer.from('hello world, not a snapshot'), /missing the ORSNAP1 header/],
      [good.subarray(0, 10), /truncated/],
      [good.subarray(0, 20), /out of bounds/],
      [Buffer.concat([good.subarray(0, 8), Buffer.from([0xff, 0xff, 0xff, 0xff])]), /out of bounds/],
      [header('{"keyId":"0123456789abcdef"'), /header is not valid JSON/],
      [header('{"keyId":"0123456789abcdef","signature":"","x":1}'), /exactly a string "keyId"/],
      [header('{"keyId":"XYZ","signature":""}'), /16 lowercase hex/],
      [header('{"keyId":"","signature":"AAAA"}'), /3 bytes; Ed25519 signatures are 64/],
      [header('{"keyId":"","signature":"A A=="}'), /not canonical base64/],
      [header(`{"keyId":"","signature":"${Buffer.alloc(64).toString('base64')}"}`), /signed but names no keyId/],
    ];
    for (const [bytes, message] of cases) {
      assert.throws(() => decodeSignedSnapshot(bytes), (error: unknown) => error instanceof SnapshotFormatError && message.test(error.message), String(message));
    }
    assert.throws(() => decodeSignedSnapshot('not bytes' as unknown as Uint8Array), /must be bytes/);
  });

  it('bounds the total size', () => {
    const big = new Uint8Array(MAX_SNAPSHOT_BYTES + 1);
    assert.throws(() => decodeSignedSnapshot(big), /limit is 33554432/);
    assert.throws(() => encodeSignedSnapshot({ ...signed(), payload: big }), /limit is 33554432/);
  });

  it('never throws anything but SnapshotFormatError on any truncation or single-byte change', () => {
    const good = Buffer.from(encodeSignedSnapshot(signed(makeSnapshot(2, [{ name: 'a.yaml', text: 'x: 1\n' }]))));
    const inputs: Uint8Array[] = [];
    for (let length = 0; length < good.length; length++) inputs.push(good.subarray(0, length));
    for (let i = 0; i < good.length; i++) {
      for (const value of [0x00, 0x22, 0x5c, 0x7b, 0xff, good[i]! ^ 0x01]) {
        const copy = Buffer.from(good);
        copy[i] = value;
        inputs.push(copy);
      }
    }
    for (const input of inputs) {
      try {
        decodeSnapshotPayload(decodeSignedSnapshot(input).payload);
      } catch (error) {
        assert.ok(error instanceof SnapshotFormatError, `unexpected ${String(error)}`);
      }
    }
  });
});
