import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Keyring, SEAL_OVERHEAD, generateKey, parseKey } from './keyring.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const key = (size: number, fill: number): Uint8Array => new Uint8Array(size).fill(fill);

describe('Keyring', () => {
  it('seals and opens with AES-128, -192 and -256 keys', () => {
    for (const size of [16, 24, 32]) {
      const ring = new Keyring([key(size, 1)]);
      const sealed = ring.seal(text('hello'), 'label');
      assert.equal(sealed.length, 5 + SEAL_OVERHEAD);
      assert.equal(sealed[0], 1);
      assert.deepStrictEqual(ring.open(sealed, 'label'), text('hello'));
    }
  });

  it('seals the empty plaintext, with an empty label', () => {
    const ring = new Keyring([generateKey()]);
    assert.deepStrictEqual(ring.open(ring.seal(new Uint8Array(), ''), ''), new Uint8Array());
  });

  it('uses a fresh nonce every time', () => {
    const ring = new Keyring([generateKey()]);
    const a = ring.seal(text('same'), 'l');
    const b = ring.seal(text('same'), 'l');
    assert.notDeepStrictEqual(a.subarray(1, 13), b.subarray(1, 13));
  });

  it('rotates keys without downtime', () => {
    const oldKey = key(32, 1);
    const newKey = key(16, 2);
    const node = new Keyring([oldKey]);
    const peer = new Keyring([oldKey]);
    const beforeRotation = node.seal(text('old'), 'l');

    // Step 1: every member installs the new key; the old one still seals.
    node.addKey(newKey);
    peer.addKey(newKey);
    assert.deepStrictEqual(node.primaryKey, oldKey);
    assert.deepStrictEqual(peer.open(node.seal(text('a'), 'l'), 'l'), text('a'));

    // Step 2: the new key becomes primary, one member at a time; both still understand each other.
    node.useKey(newKey);
    assert.deepStrictEqual(node.primaryKey, newKey);
    assert.deepStrictEqual(node.keys, [newKey, oldKey]);
    const sealedWithNew = node.seal(text('b'), 'l');
    assert.equal(new Keyring([oldKey]).open(sealedWithNew, 'l'), undefined, 'sealed with the new key');
    assert.deepStrictEqual(peer.open(sealedWithNew, 'l'), text('b'));
    assert.deepStrictEqual(node.open(peer.seal(text('c'), 'l'), 'l'), text('c'));
    assert.deepStrictEqual(node.open(beforeRotation, 'l'), text('old'));

    // Step 3: the old key goes; what it sealed no longer opens.
    node.removeKey(oldKey);
    assert.deepStrictEqual(node.keys, [newKey]);
    assert.equal(node.open(beforeRotation, 'l'), undefined);
  });

  it('refuses to remove the primary key or use an unknown key', () => {
    const ring = new Keyring([key(16, 1), key(16, 2)]);
    assert.throws(() => ring.removeKey(key(16, 1)), /primary/);
    assert.throws(() => ring.useKey(key(16, 9)), /not in the keyring/);
    ring.removeKey(key(16, 9));
    assert.equal(ring.keys.length, 2);
  });

  it('rejects bad keys, an empty ring, and ignores duplicates', () => {
    assert.throws(() => new Keyring([]), /at least one key/);
    assert.throws(() => new Keyring([key(15, 1)]), /16, 24 or 32/);
    assert.throws(() => new Keyring([key(16, 1)]).addKey(key(33, 1)), /16, 24 or 32/);
    const ring = new Keyring([key(16, 1), key(16, 1)]);
    ring.addKey(key(16, 1));
    assert.equal(ring.keys.length, 1);
  });

  it('keeps its own copies of keys', () => {
    const k = key(16, 1);
    const ring = new Keyring([k]);
    const sealed = ring.seal(text('x'), 'l');
    k.fill(0);
    ring.primaryKey.fill(0);
    assert.deepStrictEqual(ring.open(sealed, 'l'), text('x'));
  });

  it('rejects a wrong label', () => {
    const ring = new Keyring([generateKey()]);
    const sealed = ring.seal(text('payload'), 'cluster-a');
    assert.equal(ring.open(sealed, 'cluster-b'), undefined);
    assert.equal(ring.open(sealed, ''), undefined);
  });

  it('rejects any tampered byte, and short input', () => {
    const ring = new Keyring([generateKey()]);
    const sealed = ring.seal(text('some payload'), 'l');
    for (let i = 0; i < sealed.length; i++) {
      const tampered = new Uint8Array(sealed);
      tampered[i] = tampered[i]! ^ 0x01;
      assert.equal(ring.open(tampered, 'l'), undefined, `byte ${i}`);
    }
    for (let n = 0; n < sealed.length; n++) assert.equal(ring.open(sealed.subarray(0, n), 'l'), undefined, `length ${n}`);
    assert.equal(ring.open(new Uint8Array([...sealed, 0]), 'l'), undefined, 'appended byte');
  });

  it('never throws on random input', () => {
    const ring = new Keyring([generateKey(), key(24, 3)]);
    const sealedThenDamaged = fc
      .tuple(fc.uint8Array({ maxLength: 64 }), fc.nat(), fc.integer({ min: 1, max: 255 }))
      .map(([plain, at, mask]) => {
        const sealed = ring.seal(plain, 'l');
        const i = at % sealed.length;
        sealed[i] = sealed[i]! ^ mask;
        return sealed;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 128 }), sealedThenDamaged), fc.string(), (input, label) => {
        assert.equal(ring.open(input, label), undefined);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips random plaintexts and labels', () => {
    const ring = new Keyring([generateKey()]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.string({ unit: 'binary' }), (plain, label) => {
        assert.deepStrictEqual(ring.open(ring.seal(plain, label), label), plain);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseKey and generateKey', () => {
  it('parses base64 of 16, 24 and 32 bytes', () => {
    for (const size of [16, 24, 32]) {
      const bytes = new Uint8Array(size).map((_, i) => i * 7);
      assert.deepStrictEqual(parseKey(Buffer.from(bytes).toString('base64')), bytes);
      assert.deepStrictEqual(parseKey(` ${Buffer.from(bytes).toString('base64')}\n`), bytes);
    }
  });

  it('explains what is wrong without repeating the key', () => {
    const wrongSize = Buffer.from(new Uint8Array(20)).toString('base64');
    assert.throws(() => parseKey(wrongSize), (e: Error) => /16, 24 or 32 bytes.*got 20 bytes/.test(e.message) && !e.message.includes(wrongSize));
    for (const bad of ['', '   ', 'not base64!', 'QUJD', 'QUJDRA', 'QUJDRA=', 'QU=JDRA==', Buffer.alloc(32).toString('base64url') + '-']) {
      assert.throws(() => parseKey(bad), /gossip key/, JSON.stringify(bad));
    }
  });

  it('generates distinct 32-byte keys', () => {
    const a = generateKey();
    assert.equal(a.length, 32);
    assert.notDeepStrictEqual(a, generateKey());
    assert.deepStrictEqual(new Keyring([a]).keys, [a]);
  });
});
