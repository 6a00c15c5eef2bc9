import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  COMPOUND_OVERHEAD,
  CodecError,
  MAX_META_BYTES,
  compoundPartOverhead,
  decodePacket,
  decodeStream,
  encodeCompound,
  encodePacket,
  encodeStream,
} from './codec.ts';
import type { MemberState, PacketMessage, StreamMessage } from './messages.ts';
import { Wire } from './wire.ts';

const MAX = Number.MAX_SAFE_INTEGER;

function packetRoundTrip(msg: PacketMessage): Uint8Array {
  const bytes = encodePacket(msg);
  assert.deepStrictEqual(decodePacket(bytes), msg);
  return bytes;
}

function streamRoundTrip(msg: StreamMessage): Uint8Array {
  const bytes = encodeStream(msg);
  assert.deepStrictEqual(decodeStream(bytes), msg);
  return bytes;
}

/** Runs a decoder and fails on anything thrown that is not a CodecError. */
function decodesOrCodecError(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): void {
  try {
    decode(bytes);
  } catch (error) {
    if (!(error instanceof CodecError)) throw error;
  }
}

function assertCodecError(fn: () => unknown, reason: RegExp): void {
  assert.throws(fn, (error) => error instanceof CodecError && reason.test(error.message));
}

const member = (over: Partial<MemberState> = {}): MemberState => ({
  name: 'sidecar-7f3a',
  addr: '10.0.3.17:7946',
  incarnation: 3,
  status: 'alive',
  meta: new Uint8Array([1, 2, 3]),
  ...over,
});

describe('codec round trips', () => {
  it('packet messages, with edge values', () => {
    for (const seq of [0, 1, 127, 128, 2 ** 32, MAX]) {
      packetRoundTrip({ type: 'ping', seq, target: 'b', source: 'a', sourceAddr: '127.0.0.1:7946' });
      packetRoundTrip({ type: 'ack', seq });
      packetRoundTrip({ type: 'nack', seq });
    }
    packetRoundTrip({
      type: 'indirect-ping', seq: 9, target: 'c', targetAddr: '[::1]:7946', source: 'a', sourceAddr: 'a:1', wantNack: true,
    });
    packetRoundTrip({ type: 'indirect-ping', seq: 0, target: '', targetAddr: '', source: '', sourceAddr: '', wantNack: false });
    for (const incarnation of [0, MAX]) {
      packetRoundTrip({ type: 'alive', name: 'n', addr: 'h:1', incarnation, meta: new Uint8Array() });
      packetRoundTrip({ type: 'suspect', name: 'n', incarnation, from: 'm' });
      packetRoundTrip({ type: 'dead', name: 'n', incarnation, from: 'n' });
    }
    packetRoundTrip({ type: 'alive', name: 'n', addr: 'h:1', incarnation: 1, meta: new Uint8Array(MAX_META_BYTES).fill(7) });
    packetRoundTrip({ type: 'alive', name: '\uFEFFnœud-ü-😀', addr: 'h:1', incarnation: 1, meta: new Uint8Array([0]) });
  });

  it('compound packets, empty or with parts', () => {
    assert.deepStrictEqual(encodeCompound([]).length, COMPOUND_OVERHEAD);
    packetRoundTrip({ type: 'compound', parts: [] });
    const parts = [encodePacket({ type: 'ack', seq: 5 }), encodePacket({ type: 'suspect', name: 'x', incarnation: 2, from: 'y' })];
    const bytes = packetRoundTrip({ type: 'compound', parts });
    const expected = COMPOUND_OVERHEAD + parts.reduce((sum, p) => sum + compoundPartOverhead(p.length) + p.length, 0);
    assert.equal(bytes.length, expected);
    const decoded = decodePacket(bytes);
    assert.equal(decoded.type, 'compound');
    if (decoded.type === 'compound') assert.deepStrictEqual(decodePacket(decoded.parts[1]!), decodePacket(parts[1]!));
  });

  it('compound part overhead matches the varint length', () => {
    assert.equal(compoundPartOverhead(0), 1);
    assert.equal(compoundPartOverhead(127), 1);
    assert.equal(compoundPartOverhead(128), 2);
    assert.equal(compoundPartOverhead(1400), 2);
    assert.equal(compoundPartOverhead(16384), 3);
  });

  it('stream messages', () => {
    streamRoundTrip({ type: 'push-pull', join: true, members: [] });
    streamRoundTrip({
      type: 'push-pull',
      join: false,
      members: [
        member(),
        member({ name: 'b', status: 'suspect', incarnation: 0, meta: new Uint8Array() }),
        member({ name: 'c', status: 'dead', incarnation: MAX }),
        member({ name: 'd', status: 'left', meta: new Uint8Array(MAX_META_BYTES) }),
      ],
    });
    streamRoundTrip({ type: 'stream-ping', seq: MAX, target: 't', source: 's' });
    streamRoundTrip({ type: 'ack', seq: 0 });
    streamRoundTrip({ type: 'user-request', kind: 'snapshot', body: new Uint8Array() });
    streamRoundTrip({ type: 'user-request', kind: 'k'.repeat(64), body: new Uint8Array(100_000).fill(9) });
    streamRoundTrip({ type: 'user-response', ok: true, body: new Uint8Array([1]) });
    streamRoundTrip({ type: 'user-response', ok: false, body: new Uint8Array() });
  });

  it('decodes from a Buffer at an offset and returns plain, independent copies', () => {
    const bytes = encodePacket({ type: 'alive', name: 'n', addr: 'h:1', incarnation: 4, meta: new Uint8Array([5, 6]) });
    const pool = Buffer.alloc(bytes.length + 10);
    pool.set(bytes, 10);
    const decoded = decodePacket(pool.subarray(10));
    assert.equal(decoded.type, 'alive');
    if (decoded.type !== 'alive') return;
    assert.equal(Object.getPrototypeOf(decoded.meta), Uint8Array.prototype);
    pool.fill(0);
    assert.deepStrictEqual([...decoded.meta], [5, 6]);
  });
});

describe('codec sizes', () => {
  it('keeps a typical ping under 80 bytes and an ack tiny', () => {
    const ping = encodePacket({
      type: 'ping', seq: 123_456_789, target: 'catalog-7d9f8c6b5-x2k4p', source: 'frontend-5c7b9d-qwe12', sourceAddr: '10.244.12.34:7946',
    });
    assert.ok(ping.length < 80, `ping is ${ping.length} bytes`);
    assert.equal(encodePacket({ type: 'ack', seq: 100 }).length, 3);
  });

  it('starts with the version then the type tag', () => {
    const bytes = encodePacket({ type: 'nack', seq: 1 });
    assert.equal(bytes[0], 1);
    assert.equal(bytes[1], 4);
  });
});

describe('codec refuses bad input', () => {
  const alive = (meta: Uint8Array, name = 'n'): PacketMessage => ({ type: 'alive', name, addr: 'h:1', incarnation: 1, meta });

  it('refuses to encode invalid messages', () => {
    assert.throws(() => encodePacket(alive(new Uint8Array(MAX_META_BYTES + 1))), CodecError);
    assert.throws(() => encodePacket(alive(new Uint8Array(), 'x'.repeat(256))), CodecError);
    assert.throws(() => encodePacket(alive(new Uint8Array(), '\uD800')), CodecError);
    assert.throws(() => encodePacket({ type: 'ack', seq: -1 }), CodecError);
    assert.throws(() => encodePacket({ type: 'ack', seq: 1.5 }), CodecError);
    assert.throws(() => encodePacket({ type: 'ack', seq: MAX + 1 }), CodecError);
    assert.throws(() => encodeStream({ type: 'user-request', kind: 'k'.repeat(65), body: new Uint8Array() }), CodecError);
    assert.throws(() => encodeStream({ type: 'push-pull', join: true, members: [member({ status: 'gone' as 'dead' })] }), CodecError);
    assert.throws(() => encodeCompound([new Uint8Array()]), CodecError);
    assert.throws(() => encodeCompound([encodeCompound([])]), CodecError);
    assert.throws(() => encodePacket({ type: 'push-pull' } as unknown as PacketMessage), CodecError);
    assert.throws(() => encodeStream({ type: 'ping' } as unknown as StreamMessage), CodecError);
  });

  const cases: [string, number[], RegExp][] = [
    ['empty input', [], /truncated/],
    ['version only', [1], /truncated/],
    ['unknown version', [2, 3, 0], /version/],
    ['unknown tag', [1, 99, 0], /tag/],
    ['trailing garbage', [1, 3, 5, 0], /trailing/],
    ['truncated varint', [1, 3, 0x80], /truncated/],
    ['overlong varint', [1, 3, 0x80, 0x00], /overlong/],
    ['varint above 2^53 - 1', [1, 3, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10], /above/],
    ['varint longer than 8 bytes', [1, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /longer than 8/],
    ['string length past the end', [1, 6, 0xc8, 0x01, 0x61], /truncated/],
    ['huge string length', [1, 6, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x61], /more than 255/],
    ['name longer than 255 bytes', [1, 6, 0x80, 0x02, ...new Array<number>(256).fill(0x61), 1, 1, 0x61], /more than 255/],
    ['invalid UTF-8', [1, 6, 1, 0xff, 1, 1, 0x61], /UTF-8/],
    ['meta longer than 512 bytes', [1, 5, 1, 0x61, 1, 0x61, 1, 0x81, 0x04, ...new Array<number>(513).fill(0)], /more than 512/],
    ['boolean not 0 or 1', [1, 2, 1, 0, 0, 0, 0, 2], /boolean/],
    ['empty compound part', [1, 8, 0], /compound part/],
    ['nested compound', [1, 8, 2, 1, 8], /compound part/],
    ['compound part past the end', [1, 8, 5, 1, 3], /truncated/],
    ['stream tag in a packet', [1, 17, 1, 0, 0], /packet type tag/],
  ];
  for (const [name, bytes, reason] of cases) {
    it(`packet: ${name}`, () => assertCodecError(() => decodePacket(new Uint8Array(bytes)), reason));
  }

  const streamCases: [string, number[], RegExp][] = [
    ['packet tag in a stream', [1, 1, 0, 0, 0, 0], /stream type tag/],
    ['status outside the enum', [1, 16, 0, 1, 1, 0x61, 1, 0x61, 0, 4, 0], /status/],
    ['member count beyond the input', [1, 16, 0, 0xff, 0xff, 0xff, 0xff, 0x0f], /truncated/],
    ['kind longer than 64 bytes', [1, 18, 65, ...new Array<number>(65).fill(0x61), 0], /more than 64/],
    ['body length past the end', [1, 19, 1, 0xff, 0xff, 0xff, 0xff, 0x7f], /truncated/],
  ];
  for (const [name, bytes, reason] of streamCases) {
    it(`stream: ${name}`, () => assertCodecError(() => decodeStream(new Uint8Array(bytes)), reason));
  }

  it('rejects input that is not a Uint8Array', () => {
    assert.throws(() => decodePacket('hello' as unknown as Uint8Array), CodecError);
    assert.throws(() => decodeStream(undefined as unknown as Uint8Array), CodecError);
  });
});

/** Records with an ordinary prototype, as the decoder builds them. */
const rec = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> => fc.record(model, { noNullPrototype: true });

const name = fc.string({ unit: 'binary', maxLength: 63 }); // ≤ 4 UTF-8 bytes per code point
const counter = fc.maxSafeNat();
const meta = fc.uint8Array({ maxLength: MAX_META_BYTES });

const simplePacket: fc.Arbitrary<PacketMessage> = fc.oneof(
  rec({ type: fc.constant('ping' as const), seq: counter, target: name, source: name, sourceAddr: name }),
  rec({
    type: fc.constant('indirect-ping' as const), seq: counter, target: name, targetAddr: name, source: name, sourceAddr: name,
    wantNack: fc.boolean(),
  }),
  rec({ type: fc.constantFrom('ack' as const, 'nack' as const), seq: counter }),
  rec({ type: fc.constant('alive' as const), name, addr: name, incarnation: counter, meta }),
  rec({ type: fc.constantFrom('suspect' as const, 'dead' as const), name, incarnation: counter, from: name }),
);

const packet: fc.Arbitrary<PacketMessage> = fc.oneof(
  simplePacket,
  fc.array(simplePacket, { maxLength: 6 }).map((msgs): PacketMessage => ({ type: 'compound', parts: msgs.map(encodePacket) })),
);

const memberState: fc.Arbitrary<MemberState> = rec({
  name, addr: name, incarnation: counter, status: fc.constantFrom('alive' as const, 'suspect' as const, 'dead' as const, 'left' as const), meta,
});

const streamMessage: fc.Arbitrary<StreamMessage> = fc.oneof(
  rec({ type: fc.constant('push-pull' as const), join: fc.boolean(), members: fc.array(memberState, { maxLength: 8 }) }),
  rec({ type: fc.constant('stream-ping' as const), seq: counter, target: name, source: name }),
  rec({ type: fc.constant('ack' as const), seq: counter }),
  rec({ type: fc.constant('user-request' as const), kind: fc.string({ unit: 'binary', maxLength: 16 }), body: fc.uint8Array({ maxLength: 2048 }) }),
  rec({ type: fc.constant('user-response' as const), ok: fc.boolean(), body: fc.uint8Array({ maxLength: 2048 }) }),
);

/** An encoded message with damage: a bit flipped, cut short, bytes inserted, or a tail of garbage. */
function damaged(encoded: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(encoded, fc.nat(), fc.nat(7), fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.nat(3)).map(
    ([bytes, at, bit, extra, how]) => {
      const i = bytes.length === 0 ? 0 : at % bytes.length;
      const copy = new Uint8Array(bytes);
      if (how === 0 && copy.length > 0) copy[i] = copy[i]! ^ (1 << bit);
      if (how === 1) return copy.subarray(0, i);
      if (how === 2) return new Uint8Array([...copy.subarray(0, i), ...extra, ...copy.subarray(i)]);
      if (how === 3) return new Uint8Array([...copy, ...extra]);
      return copy;
    },
  );
}

describe('codec properties', () => {
  it('random packets round-trip', () => {
    fc.assert(fc.property(packet, (msg) => void packetRoundTrip(msg)), { numRuns: 1000 });
  });

  it('random stream messages round-trip', () => {
    fc.assert(fc.property(streamMessage, (msg) => void streamRoundTrip(msg)), { numRuns: 500 });
  });

  it('random bytes only ever throw CodecError', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.uint8Array({ maxLength: 64 }).map((b) => new Uint8Array([1, ...b])),
      fc.tuple(fc.integer({ min: 0, max: 31 }), fc.uint8Array({ maxLength: 64 })).map(([tag, b]) => new Uint8Array([1, tag, ...b])),
    );
    fc.assert(fc.property(bytes, (b) => {
      decodesOrCodecError(decodePacket, b);
      decodesOrCodecError(decodeStream, b);
    }), { numRuns: 5000 });
  });

  it('damaged encodings only ever throw CodecError, and what decodes re-encodes to the same bytes', () => {
    const encoded = fc.oneof(packet.map(encodePacket), streamMessage.map(encodeStream));
    fc.assert(fc.property(damaged(encoded), decodesCanonicallyOrCodecError), { numRuns: 3000 });
  });
});

/** The fuzzers' property: both decoders only ever throw CodecError, and what decodes re-encodes to the same bytes. */
function decodesCanonicallyOrCodecError(b: Uint8Array): void {
  for (const [decode, encode] of [[decodePacket, encodePacket], [decodeStream, encodeStream]] as const) {
    let msg;
    try {
      msg = decode(b);
    } catch (error) {
      if (error instanceof CodecError) continue;
      throw error;
    }
    // The encoding is canonical: anything accepted is exactly what the encoder would write.
    assert.deepStrictEqual(encode(msg as never), new Uint8Array(b));
  }
}

/** Reads a corpus file: hex digits, whitespace ignored, `#` starts a comment. */
function readHexFile(path: string): Uint8Array {
  const digits = readFileSync(path, 'utf8').replace(/#.*$/gm, '').replace(/\s+/g, '');
  assert.match(digits, /^(?:[0-9a-fA-F]{2})*$/, `${path}: not an even number of hex digits`);
  return new Uint8Array(Buffer.from(digits, 'hex'));
}

describe('codec on the seed corpus (testdata/fuzz-corpus, named <packet|stream>-<ok|bad>-<what>.hex)', () => {
  const corpus = join(import.meta.dirname, 'testdata', 'fuzz-corpus');
  const wire = new Wire(undefined, 'corpus');
  for (const file of readdirSync(corpus).filter((name) => name.endsWith('.hex')).sort()) {
    it(file, () => {
      const bytes = readHexFile(join(corpus, file));
      decodesCanonicallyOrCodecError(bytes);
      const [kind, expected] = file.split('-');
      assert.ok((kind === 'packet' || kind === 'stream') && (expected === 'ok' || expected === 'bad'), `${file}: name must start with packet-ok-, packet-bad-, stream-ok- or stream-bad-`);
      // Received bytes go through the Wire: a malformed message is dropped as such, never thrown.
      const opened = kind === 'packet' ? wire.openPacket(bytes) : wire.openStream(bytes);
      assert.deepEqual(opened.ok ? 'ok' : opened.reason, expected === 'ok' ? 'ok' : 'malformed');
    });
  }
});
