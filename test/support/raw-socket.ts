import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RawReply {
  /** Status of the first response, or 0 when the server answered nothing. */
  status: number;
  /** Lower-cased header names of the first response; the last value wins. */
  headers: Record<string, string>;
  /** Number of status lines seen: more than one means a pipelined request was answered too. */
  responses: number;
  /** The server closed the connection before the read timeout. */
  closed: boolean;
  raw: string;
}

/**
 * Sends raw bytes (each part a separate write, a little apart, to exercise parsing across packets) and reads the
 * reply until the server closes the connection or `timeoutMs` passes.
 */
export async function sendRaw(port: number, parts: readonly (string | Buffer)[], timeoutMs = 1_500): Promise<RawReply> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined); // a server that closes mid-write resets us; what it answered is still read
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<boolean>((resolve) => {
    socket.once('close', () => resolve(true));
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  for (const [i, part] of parts.entries()) {
    if (i > 0) await sleep(20);
    if (socket.destroyed) break;
    socket.write(typeof part === 'string' ? Buffer.from(part, 'latin1') : part);
  }
  const closed = await done;
  clearTimeout(timer);
  socket.destroy();
  return parseReply(Buffer.concat(chunks).toString('latin1'), closed);
}

function parseReply(raw: string, closed: boolean): RawReply {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  const headers: Record<string, string> = {};
  const head = raw.slice(0, raw.indexOf('\r\n\r\n') === -1 ? raw.length : raw.indexOf('\r\n\r\n'));
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: match ? Number(match[1]) : 0, headers, responses: raw.match(/(?:^|\r\n)HTTP\/1\.[01] \d{3} /g)?.length ?? 0, closed, raw };
}

export interface RawUpstream {
  address: string;
  /** Every byte received, across connections, in arrival order. */
  received(): Buffer;
  close(): Promise<void>;
}

/**
 * A TCP server standing in for an upstream: records every byte it receives and answers each request head with
 * a canned `200 ok` (so a well-formed request can prove the proxy is still healthy).
 */
export async function startRawUpstream(): Promise<RawUpstream> {
  const received: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      pending += chunk.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\r\n\r\n')) !== -1) {
        pending = pending.slice(end + 4);
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    received: () => Buffer.concat(received),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
