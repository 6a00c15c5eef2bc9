/**
 * The real-network `Transport`: UDP datagrams for packets and TCP for streams, both on the same port number, as
 * memberlist's NetTransport. A stream carries one request frame and one reply frame, each a 4-byte big-endian length
 * then the payload; the client closes once it has the reply. Socket events never throw: failures go to `onError`
 * and the `stats` counters.
 */
import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, isIPv6 } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { RequestCallback, Transport, TransportHandlers } from './transport.ts';

export interface UdpTcpTransportOptions {
  host: string;
  /** 0 picks a free port, the same number for UDP and TCP. */
  port: number;
  /** The host other members reach us at, when `host` is a wildcard such as 0.0.0.0. */
  advertiseHost?: string;
  /** Largest stream frame accepted, either way. Default 32 MiB. */
  maxFrameBytes?: number;
  /** How long an inbound stream connection may stay open, request and reply included. Default 10 s. */
  streamTimeoutMs?: number;
  /** Inbound stream connections open at once; more are closed at once. Default 256. */
  maxInboundStreams?: number;
  onError?: (error: Error) => void;
}

export interface TransportStats {
  packetsSent: number;
  packetsReceived: number;
  /** Datagrams too large to send, or received before handlers were set. */
  packetsDropped: number;
  streamsAccepted: number;
  streamsRejected: number;
  frameErrors: number;
  errors: number;
}

export const MAX_DATAGRAM_BYTES = 65_507;
const FRAME_HEADER_BYTES = 4;
const BIND_ATTEMPTS = 5;
const UDP_RECEIVE_BUFFER_BYTES = 2 * 1024 * 1024;

export function joinHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** `host:port` or `[ipv6]:port`; undefined when malformed. */
export function splitHostPort(address: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
  if (match === null) return undefined;
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  if (port < 1 || port > 65_535 || (match[1] !== undefined && !isIPv6(host))) return undefined;
  return { host, port };
}

class FrameError extends Error {
  override name = 'FrameError';
}

/** Collects one length-prefixed frame without trusting its length: memory grows only with bytes actually received. */
class FrameReader {
  private readonly max: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private length = -1;
  private complete = false;

  constructor(max: number) {
    this.max = max;
  }

  get started(): boolean {
    return this.buffered > 0 || this.length >= 0;
  }

  /** The frame once complete; throws FrameError for an oversized frame or any byte after it. */
  push(chunk: Buffer): Buffer | undefined {
    if (this.complete) throw new FrameError('data after the frame');
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.length < 0) {
      if (this.buffered < FRAME_HEADER_BYTES) return undefined;
      const joined = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks);
      this.length = joined.readUInt32BE(0);
      if (this.length > this.max) throw new FrameError(`frame of ${this.length} bytes exceeds ${this.max}`);
      this.chunks = [joined.subarray(FRAME_HEADER_BYTES)];
      this.buffered -= FRAME_HEADER_BYTES;
    }
    if (this.buffered > this.length) throw new FrameError('data after the frame');
    if (this.buffered < this.length) return undefined;
    this.complete = true;
    return Buffer.concat(this.chunks, this.length);
  }
}

function frameHeader(length: number): Buffer {
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt32BE(length);
  return header;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function bindUdp(socket: UdpSocket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port, address: host, exclusive: true }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

export class UdpTcpTransport implements Transport {
  readonly address: string;
  readonly stats: TransportStats = {
    packetsSent: 0, packetsReceived: 0, packetsDropped: 0, streamsAccepted: 0, streamsRejected: 0, frameErrors: 0, errors: 0,
  };

  private readonly server: Server;
  private readonly udp: UdpSocket;
  private readonly maxFrameBytes: number;
  private readonly streamTimeoutMs: number;
  private readonly maxInboundStreams: number;
  private readonly onError: ((error: Error) => void) | undefined;
  private handlers: TransportHandlers | undefined;
  private readonly inbound = new Set<Socket>();
  /** Each outbound request's way to fail, so close() can end them. */
  private readonly outbound = new Set<(error: Error) => void>();
  private closing: Promise<void> | undefined;

  static async bind(options: UdpTcpTransportOptions): Promise<UdpTcpTransport> {
    const { host, port } = options;
    for (let attempt = 1; ; attempt++) {
      const server = createServer({ noDelay: true });
      await listen(server, port, host);
      const boundPort = (server.address() as AddressInfo).port;
      const udp = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
      try {
        await bindUdp(udp, boundPort, host);
      } catch (error) {
        try {
          udp.close();
        } catch {
          // Already closed by the failed bind.
        }
        await new Promise((resolve) => server.close(resolve));
        // With an ephemeral port, another process may hold the UDP side of the number TCP got: try another.
        if (port === 0 && (error as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < BIND_ATTEMPTS) continue;
        throw error;
      }
      return new UdpTcpTransport(server, udp, boundPort, options);
    }
  }

  private constructor(server: Server, udp: UdpSocket, port: number, options: UdpTcpTransportOptions) {
    this.server = server;
    this.udp = udp;
    this.address = joinHostPort(options.advertiseHost ?? options.host, port);
    this.maxFrameBytes = options.maxFrameBytes ?? 32 * 1024 * 1024;
    this.streamTimeoutMs = options.streamTimeoutMs ?? 10_000;
    this.maxInboundStreams = options.maxInboundStreams ?? 256;
    this.onError = options.onError;
    try {
      udp.setRecvBufferSize(UDP_RECEIVE_BUFFER_BYTES);
    } catch {
      // Best effort, as memberlist: the kernel's limit applies.
    }
    udp.on('message', (data, rinfo) => {
      if (this.closing !== undefined) return;
      const handlers = this.handlers;
      if (handlers === undefined) {
        this.stats.packetsDropped++;
        return;
      }
      this.stats.packetsReceived++;
      this.guard(() => handlers.packet(joinHostPort(rinfo.address, rinfo.port), data));
    });
    udp.on('error', (error) => this.report(error));
    server.on('connection', (socket) => this.guard(() => this.accept(socket)));
    server.on('error', (error) => this.report(error));
  }

  setHandlers(handlers: TransportHandlers): void {
    this.handlers = handlers;
  }

  sendPacket(to: string, data: Uint8Array): void {
    if (this.closing !== undefined) return;
    if (data.length > MAX_DATAGRAM_BYTES) {
      this.stats.packetsDropped++;
      return;
    }
    const target = splitHostPort(to);
    if (target === undefined) {
      this.report(new Error(`cannot send a packet to malformed address ${JSON.stringify(to)}`));
      return;
    }
    try {
      this.udp.send(data, target.port, target.host, (error) => {
        if (error) this.report(error);
        else this.stats.packetsSent++;
      });
    } catch (error) {
      this.report(error);
    }
  }

  request(to: string, data: Uint8Array, timeoutMs: number, callback: RequestCallback): void {
    const target = splitHostPort(to);
    const refusal =
      this.closing !== undefined ? 'transport is closed'
        : target === undefined ? `malformed address ${JSON.stringify(to)}`
          : data.length > this.maxFrameBytes ? `request of ${data.length} bytes exceeds ${this.maxFrameBytes}`
            : undefined;
    if (refusal !== undefined || target === undefined) {
      setImmediate(() => this.guard(() => callback(new Error(`stream request to ${to}: ${refusal}`))));
      return;
    }

    const socket = connect({ host: target.host, port: target.port, noDelay: true });
    let done = false;
    const finish = (error: Error | undefined, reply?: Uint8Array): void => {
      if (done) return;
      done = true;
      this.outbound.delete(fail);
      clearTimeout(timer);
      socket.destroy();
      this.guard(() => (error === undefined ? callback(undefined, reply) : callback(error)));
    };
    const fail = (error: Error): void => finish(error);
    const timer = setTimeout(() => fail(new Error(`stream request to ${to} timed out after ${timeoutMs} ms`)), timeoutMs);
    this.outbound.add(fail);

    const reader = new FrameReader(this.maxFrameBytes);
    socket.on('data', (chunk: Buffer) => {
      try {
        const reply = reader.push(chunk);
        if (reply !== undefined) finish(undefined, reply);
      } catch (error) {
        fail(new Error(`stream reply from ${to}: ${asError(error).message}`));
      }
    });
    socket.on('error', (error) => fail(new Error(`stream request to ${to}: ${error.message}`, { cause: error })));
    socket.on('close', () => fail(new Error(`stream request to ${to}: connection closed before the reply`)));
    socket.cork();
    socket.write(frameHeader(data.length));
    socket.write(data);
    socket.uncork();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const socket of this.inbound) socket.destroy();
      for (const fail of [...this.outbound]) fail(new Error('transport closed'));
      await Promise.all([
        new Promise((resolve) => this.server.close(resolve)),
        new Promise<void>((resolve) => this.udp.close(resolve)),
      ]);
    })();
    return this.closing;
  }

  private accept(socket: Socket): void {
    if (this.closing !== undefined || this.handlers === undefined || this.inbound.size >= this.maxInboundStreams) {
      this.stats.streamsRejected++;
      socket.destroy();
      return;
    }
    const handlers = this.handlers;
    this.stats.streamsAccepted++;
    this.inbound.add(socket);
    const from = joinHostPort(socket.remoteAddress ?? '', socket.remotePort ?? 0);
    // One deadline for the whole connection, as memberlist's TCP timeout: a slow or silent client cannot hold it.
    const deadline = setTimeout(() => socket.destroy(), this.streamTimeoutMs);
    const reader = new FrameReader(this.maxFrameBytes);
    let received = false;

    const reply = (data: Uint8Array): void => {
      if (!socket.writable) return; // already replied, timed out or closed
      if (data.length > this.maxFrameBytes) {
        this.report(new Error(`stream reply of ${data.length} bytes exceeds ${this.maxFrameBytes}`));
        socket.destroy();
        return;
      }
      socket.cork();
      socket.write(frameHeader(data.length));
      socket.end(data);
    };

    socket.on('data', (chunk: Buffer) => {
      let request: Buffer | undefined;
      try {
        request = reader.push(chunk);
      } catch {
        this.stats.frameErrors++;
        socket.destroy();
        return;
      }
      if (request === undefined) return;
      received = true;
      try {
        handlers.stream(from, request, reply);
      } catch (error) {
        this.report(error);
        socket.destroy(); // it will not reply now
      }
    });
    socket.on('end', () => {
      if (!received && reader.started) this.stats.frameErrors++; // truncated request
    });
    socket.on('error', (error) => this.report(error));
    socket.on('close', () => {
      clearTimeout(deadline);
      this.inbound.delete(socket);
    });
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.report(error);
    }
  }

  private report(error: unknown): void {
    this.stats.errors++;
    try {
      this.onError?.(asError(error));
    } catch {
      // An error handler that throws must not take the socket event down with it.
    }
  }
}
