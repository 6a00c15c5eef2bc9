import type { IncomingMessage, Server, ServerResponse as Response } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { sendLocalReply } from '../http/local-reply.ts';
import { REASONS } from '../http/reason.ts';
import { meshDownstream, type MeshDownstream } from '../../policy/schema/mesh.ts';
import { isH2cUpgrade, serveWithoutUpgrade } from './h2c-decline.ts';
import { checkRequest, closeRequested } from './request-checks.ts';

// Not `import … from 'node:http'`: in an ES module that also loads Node's bundled fetch (~15 MB, ~50 ms of start-up).
const { createServer, ServerResponse, STATUS_CODES } = process.getBuiltinModule('node:http');
type ServerResponse = Response;

/** What a client may hold open; set from the Mesh's `downstream` section and changeable while serving. */
export interface ListenerLimits {
  /** Time allowed for a client to send the request head (slowloris bound). */
  headersTimeoutMs: number;
  /** A request in progress with no bytes moving either way for this long is ended (stalled body, client never reading). */
  streamIdleTimeoutMs: number;
  /** Idle time before a client's keep-alive connection is closed; longer than common client pools' idle timeouts. */
  keepAliveTimeoutMs: number;
  maxHeaderBytes: number;
  maxHeaders: number;
  maxConnections: number;
}

/** Why a listener refused a request before it reached the proxy chain: the `reason` label of `outrigger_downstream_rejected_total`. */
export type RejectReason =
  | 'bad_request'
  | 'header_too_large'
  | 'header_timeout'
  | 'stream_idle_timeout'
  | 'connection_limit'
  | 'bad_version'
  | 'bad_host'
  | 'bad_target'
  | 'connect'
  | 'overload';

export interface ListenerHooks {
  /** Called once per request the listener refuses itself, before any proxying. */
  onReject?: ((reason: RejectReason) => void) | undefined;
  /** Whether the listener's own 400 replies may carry the reason flag header (`DPE`). */
  exposeFlag?: ((req: IncomingMessage) => boolean) | undefined;
  /** While true, every response closes its connection (`Connection: close`): the listener is draining. */
  isDraining?: (() => boolean) | undefined;
  /** While it returns a reason, new requests are answered 503 (flag OM) without being proxied. */
  overloaded?: (() => string | undefined) | undefined;
}

/** The Mesh's `downstream` section, in the units Node takes. */
export function listenerLimits(downstream: MeshDownstream): ListenerLimits {
  return {
    headersTimeoutMs: downstream.requestHeadersTimeout,
    streamIdleTimeoutMs: downstream.streamIdleTimeout,
    keepAliveTimeoutMs: downstream.idleTimeout,
    maxHeaderBytes: downstream.maxRequestHeadersKb * 1024,
    maxHeaders: downstream.maxRequestHeaders,
    maxConnections: downstream.maxConnections,
  };
}

/** The schema's defaults: one source for them. */
export const DEFAULT_LISTENER_LIMITS: ListenerLimits = listenerLimits(meshDownstream.parse({}));

const limitSetters = new WeakMap<Server, (limits: ListenerLimits) => void>();

/** Changes a listener's limits while it serves: Node reads them per new connection, request or timer. */
export function applyListenerLimits(server: Server, limits: ListenerLimits): void {
  limitSetters.get(server)?.(limits);
}

/**
 * A Node HTTP/1.1 server with the strict parser (never the lenient one), one well-formed Host header and bounded
 * header size and time. Whole-request time is not bounded here: bodies and responses may legitimately stream.
 */
const baseWriteHead = ServerResponse.prototype.writeHead;

export function createListener(
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
  onInternalError: (error: unknown) => void,
  limits: ListenerLimits = DEFAULT_LISTENER_LIMITS,
  hooks: ListenerHooks = {},
): Server {
  const onReject = hooks.onReject ?? ((): void => undefined);
  // A connection whose response said `connection: close` (a refusal, or the client asked): requests pipelined behind
  // it are never proxied.
  const closing = new WeakSet<Duplex>();
  // A connection whose parser failed: a request it had not finished reading (its body was malformed) is never
  // proxied; complete requests before the bad bytes are served, and the 400 follows their responses.
  const parseFailed = new WeakSet<Duplex>();
  // The latest response of each connection, set as its head arrives: what the idle timeout and parse errors concern.
  const latest = new WeakMap<Duplex, ServerResponse>();
  let maxHeaders = limits.maxHeaders;
  const reject = (res: ServerResponse, reason: RejectReason, status: number, body: string): void => {
    onReject(reason);
    sendLocalReply(res, status, status === 400 ? `DPE: ${REASONS.DPE.text}: ${body}` : body, { close: true, flag: status === 400 ? 'DPE' : undefined, exposeFlag: hooks.exposeFlag?.(res.req) ?? false });
  };
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
  const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    if (closing.has(socket) || (parseFailed.has(socket) && !req.complete)) {
      res.destroy();
      return;
    }
    if (hooks.isDraining?.() || closeRequested(req)) res.shouldKeepAlive = false;
    const overload = hooks.overloaded?.();
    if (overload !== undefined) {
      onReject('overload');
      sendLocalReply(res, 503, `OM: ${REASONS.OM.text}: ${overload}`, { flag: 'OM', exposeFlag: true, headers: { 'retry-after': '1' } });
      return;
    }
    const problem = checkRequest(req, maxHeaders);
    if (problem) reject(res, problem.reason, problem.status, problem.body);
    else guardedRequest(req, res);
    if (res.getHeader('connection') === 'close' || !res.shouldKeepAlive) closing.add(socket);
  };
  const isDraining = hooks.isDraining;
  // Responses whose head is written while the listener drains close their connection, including those of requests
  // that were already in flight when the drain began.
  class DrainAwareResponse extends ServerResponse {}
  DrainAwareResponse.prototype.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]) {
    if (isDraining?.()) this.shouldKeepAlive = false;
    return Reflect.apply(baseWriteHead, this, args) as ServerResponse;
  } as ServerResponse['writeHead'];
  const server = createServer(
    {
      ServerResponse: DrainAwareResponse,
      insecureHTTPParser: false,
      // Checked (and counted) by checkRequest, which also refuses repeated and malformed Hosts.
      requireHostHeader: false,
      requestTimeout: 0,
      // How often Node checks header timeouts: their precision.
      connectionsCheckingInterval: 1_000,
      noDelay: true,
    },
    // The parser reports errors in a request's body framing (bad chunk size or data) after it has dispatched the
    // head. Deferring lets `clientError` mark the socket first when both came in one packet, so such a head is never
    // proxied. A body's bytes reach JavaScript before the error and drain the tick queue, hence setImmediate for those.
    (req, res) => {
      latest.set(req.socket, res);
      if (req.headers['transfer-encoding'] === undefined && (req.headers['content-length'] ?? '0') === '0') process.nextTick(dispatch, req, res);
      else setImmediate(dispatch, req, res);
    },
  );
  const setLimits = (next: ListenerLimits): void => {
    server.headersTimeout = next.headersTimeoutMs;
    server.timeout = next.streamIdleTimeoutMs;
    server.keepAliveTimeout = next.keepAliveTimeoutMs;
    // Untyped in @types/node, but read by Node for every new connection's parser.
    (server as Server & { maxHeaderSize: number }).maxHeaderSize = next.maxHeaderBytes;
    // One more than allowed, so that too many headers are seen and refused, rather than silently dropped by Node.
    server.maxHeadersCount = next.maxHeaders + 1;
    server.maxConnections = next.maxConnections;
    maxHeaders = next.maxHeaders;
  };
  setLimits(limits);
  limitSetters.set(server, setLimits);
  // Node's socket idle timer: server.timeout while a request is open, the keep-alive timeout between requests.
  // A request in the proxy chain hears it first (the response's 'timeout' event) and answers 408 SI if nothing was
  // sent yet; the connection gets one more idle period for that reply. Anything else is cut here.
  server.on('timeout', (socket: Duplex) => {
    const res = latest.get(socket);
    if (res === undefined || res.writableFinished) {
      socket.destroy();
      return;
    }
    onReject('stream_idle_timeout');
    if (!res.headersSent && res.listenerCount('timeout') > 0 && socket instanceof Socket) socket.setTimeout(server.timeout);
    else socket.destroy();
  });
  server.on('drop', () => onReject('connection_limit'));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const problem = checkRequest(req, maxHeaders);
    if (!problem && isH2cUpgrade(req)) {
      serveWithoutUpgrade(server, req, socket, head);
      return;
    }
    if (!problem) {
      guardedUpgrade(req, socket, head);
      return;
    }
    onReject(problem.reason);
    socket.end(`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    onReject('connect');
    socket.end('HTTP/1.1 501 Not Implemented\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    parseFailed.add(socket);
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const reason = error.code === 'HPE_HEADER_OVERFLOW' ? 'header_too_large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'header_timeout' : 'bad_request';
    onReject(reason);
    const status = reason === 'header_too_large' ? '431 Request Header Fields Too Large' : reason === 'header_timeout' ? '408 Request Timeout' : '400 Bad Request';
    const refusal = `HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`;
    const current = latest.get(socket);
    if (current === undefined || current.writableFinished) {
      socket.end(refusal);
      return;
    }
    if (current.req.complete) {
      // The bad bytes follow complete requests (pipelined): their responses go first, then the refusal.
      current.once('finish', () => socket.end(refusal));
      current.once('close', () => current.writableFinished || socket.destroy());
      return;
    }
    // The request being read has a malformed body. Before its response started, the refusal answers it (a proxied
    // attempt is aborted as the connection closes); once it started, nothing may be written into its middle.
    if (current.headersSent) socket.destroy();
    else socket.end(refusal);
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
