import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { sendLocalReply } from '../http/local-reply.ts';

export interface ListenerLimits {
  /** Time allowed for a client to send the request head (slowloris bound). */
  headersTimeoutMs: number;
  /** Idle time before a client's keep-alive connection is closed; longer than common client pools' idle timeouts. */
  keepAliveTimeoutMs: number;
  maxHeaderBytes: number;
}

export const DEFAULT_LISTENER_LIMITS: ListenerLimits = {
  headersTimeoutMs: 30_000,
  keepAliveTimeoutMs: 60_000,
  maxHeaderBytes: 16 * 1024,
};

/**
 * A Node HTTP/1.1 server with the strict parser (never the lenient one), a mandatory Host header and bounded
 * header size and time. Whole-request time is not bounded here: bodies and responses may legitimately stream.
 */
export function createListener(
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
  onInternalError: (error: unknown) => void,
  limits: ListenerLimits = DEFAULT_LISTENER_LIMITS,
): Server {
  // A bug in the request path must cost one request, never the process (and with it every request in flight).
  const guardedRequest = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      onRequest(req, res);
    } catch (error) {
      onInternalError(error);
      if (res.headersSent) res.destroy();
      else sendLocalReply(res, 500, 'internal error in the sidecar; see its log', { close: true });
    }
  };
  const guardedUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    try {
      onUpgrade(req, socket, head);
    } catch (error) {
      onInternalError(error);
      socket.destroy();
    }
  };
  const server = createServer(
    {
      insecureHTTPParser: false,
      requireHostHeader: true,
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: 0,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      noDelay: true,
    },
    guardedRequest,
  );
  server.on('upgrade', guardedUpgrade);
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.end('HTTP/1.1 501 Not Implemented\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });
  return server;
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} on ${host} is already in use; choose another with a flag or free it`) : error);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
