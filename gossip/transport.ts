/**
 * How the membership state machine reaches other members. Packets are unreliable datagrams (UDP on a real network);
 * a request is one message over a reliable stream (TCP) answered by one reply. Implementations: `UdpTcpTransport`
 * for real sockets and `SimulatedNetwork` for tests. Bytes here are already encoded and, when a keyring is set,
 * encrypted: a transport never parses them.
 */
export interface TransportHandlers {
  /** A datagram arrived from `from` (the sender's `host:port`). */
  packet(from: string, data: Uint8Array): void;
  /** A stream request arrived; call `reply` once with the answer, or not at all to drop it. */
  stream(from: string, data: Uint8Array, reply: (data: Uint8Array) => void): void;
}

export type RequestCallback = (error: Error | undefined, reply?: Uint8Array) => void;

export interface Transport {
  /** `host:port` this member is reachable at, for packets and streams alike. */
  readonly address: string;
  setHandlers(handlers: TransportHandlers): void;
  /** Best effort: a datagram may be lost, duplicated or delayed. */
  sendPacket(to: string, data: Uint8Array): void;
  /** Sends `data` over a stream and calls back once with the reply, or an error on failure or after `timeoutMs`. */
  request(to: string, data: Uint8Array, timeoutMs: number, callback: RequestCallback): void;
  close(): Promise<void>;
}
