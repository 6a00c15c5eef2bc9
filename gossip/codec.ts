/**
 * Binary codec for the membership messages: `[version][type tag][fields…]`, integers as unsigned LEB128 varints,
 * strings and byte arrays prefixed with their length. Decoding is strict: every input either yields a valid message
 * or throws `CodecError` (no other exception type, no allocation beyond the input's own size).
 */
import type {
  AliveMessage,
  DeadMessage,
  IndirectPingMessage,
  MemberState,
  MemberStatus,
  PacketMessage,
  PingMessage,
  PushPullMessage,
  StreamMessage,
  StreamPingMessage,
  SuspectMessage,
  UserRequestMessage,
  UserResponseMessage,
} from './messages.ts';

export const CODEC_VERSION = 1;
export const MAX_META_BYTES = 512;
/** Member names and `host:port` addresses. */
export const MAX_NAME_BYTES = 255;
export const MAX_KIND_BYTES = 64;
/** Version and tag bytes of a compound packet; each part then adds `compoundPartOverhead(part.length)`. */
export const COMPOUND_OVERHEAD = 2;

export class CodecError extends Error {
  override name = 'CodecError';
}

const TAG = {
  ping: 1,
  'indirect-ping': 2,
  ack: 3,
  nack: 4,
  alive: 5,
  suspect: 6,
  dead: 7,
  compound: 8,
  'push-pull': 16,
  'stream-ping': 17,
  'user-request': 18,
  'user-response': 19,
} as const;

const STATUSES: readonly MemberStatus[] = ['alive', 'suspect', 'dead', 'left'];

export function varintLength(value: number): number {
  let length = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

export function compoundPartOverhead(partLength: number): number {
  return varintLength(partLength);
}

const utf8Encoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF in the string instead of silently dropping it.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class Writer {
  private buffer = new Uint8Array(64);
  private length = 0;

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  varint(value: number, field: string): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new CodecError(`${field} must be a non-negative safe integer`);
    this.reserve(8);
    // Division, not bit operations: values go up to 2^53 - 1.
    while (value >= 128) {
      this.buffer[this.length++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buffer[this.length++] = value;
  }

  bool(value: boolean, field: string): void {
    if (typeof value !== 'boolean') throw new CodecError(`${field} must be a boolean`);
    this.byte(value ? 1 : 0);
  }

  bytes(value: Uint8Array, field: string, max = Infinity): void {
    if (!(value instanceof Uint8Array)) throw new CodecError(`${field} must be a Uint8Array`);
    if (value.length > max) throw new CodecError(`${field} is ${value.length} bytes, more than ${max}`);
    this.varint(value.length, field);
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  string(value: string, field: string, max: number): void {
    if (typeof value !== 'string' || !value.isWellFormed()) throw new CodecError(`${field} must be a well-formed string`);
    this.bytes(utf8Encoder.encode(value), field, max);
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

class Reader {
  private offset = 0;
  private readonly input: Uint8Array;

  constructor(input: Uint8Array) {
    this.input = input;
  }

  get remaining(): number {
    return this.input.length - this.offset;
  }

  byte(field: string): number {
    const value = this.input[this.offset];
    if (value === undefined) throw new CodecError(`truncated: missing ${field}`);
    this.offset++;
    return value;
  }

  varint(field: string): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte(field);
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) throw new CodecError(`${field}: overlong varint`);
        if (value > Number.MAX_SAFE_INTEGER) throw new CodecError(`${field}: varint above 2^53 - 1`);
        return value;
      }
      scale *= 128;
    }
    throw new CodecError(`${field}: varint longer than 8 bytes`);
  }

  bool(field: string): boolean {
    const b = this.byte(field);
    if (b > 1) throw new CodecError(`${field}: invalid boolean ${b}`);
    return b === 1;
  }

  /** A copy, so a retained field never pins the whole packet buffer. */
  bytes(field: string, max = Infinity): Uint8Array {
    const length = this.varint(field);
    if (length > max) throw new CodecError(`${field}: ${length} bytes, more than ${max}`);
    if (length > this.remaining) throw new CodecError(`truncated: ${field} needs ${length} bytes, ${this.remaining} left`);
    const value = new Uint8Array(this.input.subarray(this.offset, this.offset + length));
    this.offset += length;
    return value;
  }

  string(field: string, max: number): string {
    const raw = this.bytes(field, max);
    try {
      return utf8Decoder.decode(raw);
    } catch {
      throw new CodecError(`${field}: invalid UTF-8`);
    }
  }

  status(field: string): MemberStatus {
    const b = this.byte(field);
    const status = STATUSES[b];
    if (status === undefined) throw new CodecError(`${field}: unknown status ${b}`);
    return status;
  }

  end(): void {
    if (this.remaining !== 0) throw new CodecError(`${this.remaining} trailing bytes`);
  }
}

function header(type: keyof typeof TAG): Writer {
  const w = new Writer();
  w.byte(CODEC_VERSION);
  w.byte(TAG[type]);
  return w;
}

function writeMember(w: Writer, m: MemberState): void {
  w.string(m.name, 'name', MAX_NAME_BYTES);
  w.string(m.addr, 'addr', MAX_NAME_BYTES);
  w.varint(m.incarnation, 'incarnation');
  const status = STATUSES.indexOf(m.status);
  if (status < 0) throw new CodecError(`unknown status ${String(m.status)}`);
  w.byte(status);
  w.bytes(m.meta, 'meta', MAX_META_BYTES);
}

function isNestedCompound(part: Uint8Array): boolean {
  return part[0] === CODEC_VERSION && part[1] === TAG.compound;
}

/**
 * A compound packet: its parts are already-encoded packets. Parts must be non-empty and not compounds themselves,
 * so a receiver never recurses.
 */
export function encodeCompound(parts: readonly Uint8Array[]): Uint8Array {
  if (!Array.isArray(parts)) throw new CodecError('parts must be an array');
  const w = header('compound');
  for (const part of parts) {
    if (part instanceof Uint8Array && (part.length === 0 || isNestedCompound(part))) {
      throw new CodecError('a compound part must be a non-empty, non-compound packet');
    }
    w.bytes(part, 'part');
  }
  return w.finish();
}

export function encodePacket(msg: PacketMessage): Uint8Array {
  switch (msg.type) {
    case 'ping': {
      const w = header('ping');
      w.varint(msg.seq, 'seq');
      w.string(msg.target, 'target', MAX_NAME_BYTES);
      w.string(msg.source, 'source', MAX_NAME_BYTES);
      w.string(msg.sourceAddr, 'sourceAddr', MAX_NAME_BYTES);
      return w.finish();
    }
    case 'indirect-ping': {
      const w = header('indirect-ping');
      w.varint(msg.seq, 'seq');
      w.string(msg.target, 'target', MAX_NAME_BYTES);
      w.string(msg.targetAddr, 'targetAddr', MAX_NAME_BYTES);
      w.string(msg.source, 'source', MAX_NAME_BYTES);
      w.string(msg.sourceAddr, 'sourceAddr', MAX_NAME_BYTES);
      w.bool(msg.wantNack, 'wantNack');
      return w.finish();
    }
    case 'ack':
    case 'nack': {
      const w = header(msg.type);
      w.varint(msg.seq, 'seq');
      return w.finish();
    }
    case 'alive': {
      const w = header('alive');
      w.string(msg.name, 'name', MAX_NAME_BYTES);
      w.string(msg.addr, 'addr', MAX_NAME_BYTES);
      w.varint(msg.incarnation, 'incarnation');
      w.bytes(msg.meta, 'meta', MAX_META_BYTES);
      return w.finish();
    }
    case 'suspect':
    case 'dead': {
      const w = header(msg.type);
      w.string(msg.name, 'name', MAX_NAME_BYTES);
      w.varint(msg.incarnation, 'incarnation');
      w.string(msg.from, 'from', MAX_NAME_BYTES);
      return w.finish();
    }
    case 'compound':
      return encodeCompound(msg.parts);
    default:
      throw new CodecError(`not a packet message: ${String((msg as { type?: unknown }).type)}`);
  }
}

export function encodeStream(msg: StreamMessage): Uint8Array {
  switch (msg.type) {
    case 'push-pull': {
      const w = header('push-pull');
      w.bool(msg.join, 'join');
      if (!Array.isArray(msg.members)) throw new CodecError('members must be an array');
      w.varint(msg.members.length, 'members');
      for (const member of msg.members) writeMember(w, member);
      return w.finish();
    }
    case 'stream-ping': {
      const w = header('stream-ping');
      w.varint(msg.seq, 'seq');
      w.string(msg.target, 'target', MAX_NAME_BYTES);
      w.string(msg.source, 'source', MAX_NAME_BYTES);
      return w.finish();
    }
    case 'ack': {
      const w = header('ack');
      w.varint(msg.seq, 'seq');
      return w.finish();
    }
    case 'user-request': {
      const w = header('user-request');
      w.string(msg.kind, 'kind', MAX_KIND_BYTES);
      w.bytes(msg.body, 'body');
      return w.finish();
    }
    case 'user-response': {
      const w = header('user-response');
      w.bool(msg.ok, 'ok');
      w.bytes(msg.body, 'body');
      return w.finish();
    }
    default:
      throw new CodecError(`not a stream message: ${String((msg as { type?: unknown }).type)}`);
  }
}

function open(bytes: Uint8Array): [Reader, number] {
  if (!(bytes instanceof Uint8Array)) throw new CodecError('input must be a Uint8Array');
  const r = new Reader(bytes);
  const version = r.byte('version');
  if (version !== CODEC_VERSION) throw new CodecError(`unsupported codec version ${version}`);
  return [r, r.byte('type tag')];
}

function decodePacketBody(r: Reader, tag: number): PacketMessage {
  switch (tag) {
    case TAG.ping:
      return {
        type: 'ping',
        seq: r.varint('seq'),
        target: r.string('target', MAX_NAME_BYTES),
        source: r.string('source', MAX_NAME_BYTES),
        sourceAddr: r.string('sourceAddr', MAX_NAME_BYTES),
      } satisfies PingMessage;
    case TAG['indirect-ping']:
      return {
        type: 'indirect-ping',
        seq: r.varint('seq'),
        target: r.string('target', MAX_NAME_BYTES),
        targetAddr: r.string('targetAddr', MAX_NAME_BYTES),
        source: r.string('source', MAX_NAME_BYTES),
        sourceAddr: r.string('sourceAddr', MAX_NAME_BYTES),
        wantNack: r.bool('wantNack'),
      } satisfies IndirectPingMessage;
    case TAG.ack:
      return { type: 'ack', seq: r.varint('seq') };
    case TAG.nack:
      return { type: 'nack', seq: r.varint('seq') };
    case TAG.alive:
      return {
        type: 'alive',
        name: r.string('name', MAX_NAME_BYTES),
        addr: r.string('addr', MAX_NAME_BYTES),
        incarnation: r.varint('incarnation'),
        meta: r.bytes('meta', MAX_META_BYTES),
      } satisfies AliveMessage;
    case TAG.suspect:
    case TAG.dead:
      return {
        type: tag === TAG.suspect ? 'suspect' : 'dead',
        name: r.string('name', MAX_NAME_BYTES),
        incarnation: r.varint('incarnation'),
        from: r.string('from', MAX_NAME_BYTES),
      } satisfies SuspectMessage | DeadMessage;
    case TAG.compound: {
      const parts: Uint8Array[] = [];
      while (r.remaining > 0) {
        const part = r.bytes('part');
        if (part.length === 0 || isNestedCompound(part)) throw new CodecError('empty or nested compound part');
        parts.push(part);
      }
      return { type: 'compound', parts };
    }
    default:
      throw new CodecError(`unknown packet type tag ${tag}`);
  }
}

// name, addr, meta length, status, incarnation: one byte each at least.
const MIN_MEMBER_BYTES = 5;

function decodeStreamBody(r: Reader, tag: number): StreamMessage {
  switch (tag) {
    case TAG['push-pull']: {
      const join = r.bool('join');
      const count = r.varint('members');
      if (count * MIN_MEMBER_BYTES > r.remaining) throw new CodecError(`truncated: ${count} members`);
      const members: MemberState[] = [];
      for (let i = 0; i < count; i++) {
        members.push({
          name: r.string('name', MAX_NAME_BYTES),
          addr: r.string('addr', MAX_NAME_BYTES),
          incarnation: r.varint('incarnation'),
          status: r.status('status'),
          meta: r.bytes('meta', MAX_META_BYTES),
        });
      }
      return { type: 'push-pull', join, members } satisfies PushPullMessage;
    }
    case TAG['stream-ping']:
      return {
        type: 'stream-ping',
        seq: r.varint('seq'),
        target: r.string('target', MAX_NAME_BYTES),
        source: r.string('source', MAX_NAME_BYTES),
      } satisfies StreamPingMessage;
    case TAG.ack:
      return { type: 'ack', seq: r.varint('seq') };
    case TAG['user-request']:
      return {
        type: 'user-request',
        kind: r.string('kind', MAX_KIND_BYTES),
        body: r.bytes('body'),
      } satisfies UserRequestMessage;
    case TAG['user-response']:
      return { type: 'user-response', ok: r.bool('ok'), body: r.bytes('body') } satisfies UserResponseMessage;
    default:
      throw new CodecError(`unknown stream type tag ${tag}`);
  }
}

export function decodePacket(bytes: Uint8Array): PacketMessage {
  const [r, tag] = open(bytes);
  const msg = decodePacketBody(r, tag);
  r.end();
  return msg;
}

export function decodeStream(bytes: Uint8Array): StreamMessage {
  const [r, tag] = open(bytes);
  const msg = decodeStreamBody(r, tag);
  r.end();
  return msg;
}
