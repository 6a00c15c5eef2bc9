/**
 * Every message the membership protocol sends. Packets (UDP, ≤ 1400 bytes) carry the probe and broadcast messages,
 * several at a time in a `compound`; streams (TCP) carry push/pull state exchange, the stream-based probe fallback,
 * and application requests (e.g. fetching a config snapshot) that ride the same port.
 *
 * Addresses are `host:port` strings; member names are unique within a cluster.
 */

export type MemberStatus = 'alive' | 'suspect' | 'dead' | 'left';

/** Direct probe. `target` lets a restarted member with a new name on an old address refuse a stale probe. */
export interface PingMessage {
  type: 'ping';
  seq: number;
  target: string;
  source: string;
  sourceAddr: string;
}

/** Ask a peer to probe `target` for us (SWIM's ping-req); with `wantNack` the peer answers nack if the target stays silent (Lifeguard). */
export interface IndirectPingMessage {
  type: 'indirect-ping';
  seq: number;
  target: string;
  targetAddr: string;
  source: string;
  sourceAddr: string;
  wantNack: boolean;
}

export interface AckMessage {
  type: 'ack';
  seq: number;
}

export interface NackMessage {
  type: 'nack';
  seq: number;
}

/** A member is alive at `incarnation`, reachable at `addr`, with application metadata (≤ 512 bytes). */
export interface AliveMessage {
  type: 'alive';
  name: string;
  addr: string;
  incarnation: number;
  meta: Uint8Array;
}

/** `from` suspects `name` at `incarnation`. */
export interface SuspectMessage {
  type: 'suspect';
  name: string;
  incarnation: number;
  from: string;
}

/** `from` declares `name` dead at `incarnation`; `from === name` is a graceful leave. */
export interface DeadMessage {
  type: 'dead';
  name: string;
  incarnation: number;
  from: string;
}

/** Several already-encoded messages in one packet. */
export interface CompoundMessage {
  type: 'compound';
  parts: Uint8Array[];
}

export type PacketMessage =
  | PingMessage
  | IndirectPingMessage
  | AckMessage
  | NackMessage
  | AliveMessage
  | SuspectMessage
  | DeadMessage
  | CompoundMessage;

/** One member's entry in a push/pull exchange. */
export interface MemberState {
  name: string;
  addr: string;
  incarnation: number;
  status: MemberStatus;
  meta: Uint8Array;
}

/** Anti-entropy: each side sends its whole member table; `join` marks the exchange a new member starts with. */
export interface PushPullMessage {
  type: 'push-pull';
  join: boolean;
  members: MemberState[];
}

/** Stream fallback of a direct probe, for members whose UDP is lost but TCP gets through. */
export interface StreamPingMessage {
  type: 'stream-ping';
  seq: number;
  target: string;
  source: string;
}

/** An application request over the gossip stream port, dispatched by `kind` (e.g. `snapshot`). */
export interface UserRequestMessage {
  type: 'user-request';
  kind: string;
  body: Uint8Array;
}

export interface UserResponseMessage {
  type: 'user-response';
  ok: boolean;
  body: Uint8Array;
}

export type StreamMessage = PushPullMessage | StreamPingMessage | AckMessage | UserRequestMessage | UserResponseMessage;

export type Message = PacketMessage | StreamMessage;
