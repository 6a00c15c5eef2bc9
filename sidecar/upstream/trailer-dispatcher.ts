import type { Agent as HttpAgent, ClientRequest, IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { forwardableTrailers, MAX_UPSTREAM_HEADER_BYTES } from '../http/headers.ts';
import type { PoolSettings } from './pools.ts';

// Not `import … from 'node:http'`: an ES import of it also loads Node's bundled undici (see bench/README.md).
const { Agent, request } = process.getBuiltinModule('node:http');

/** Errors carry undici's codes, so `classifyUpstreamError` reads them as it reads undici's own. */
function timeoutError(code: 'UND_ERR_CONNECT_TIMEOUT' | 'UND_ERR_HEADERS_TIMEOUT' | 'UND_ERR_BODY_TIMEOUT', message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * The upstream client for requests that announce trailers (`Trailer` on a chunked body). undici writes chunked
 * request bodies with no way to add trailers, so these few requests go through node:http's client, which can; all
 * other traffic stays on the endpoint's undici pool. It speaks undici's dispatch-handler protocol, so the forwarder,
 * retries and timeouts treat both alike. One keep-alive agent per endpoint, sized and timed like the pool.
 */
export class TrailerDispatcher {
  private readonly agent: HttpAgent;
  private readonly host: string;
  private readonly port: number;
  private readonly connectTimeoutMs: number;
  private active = 0;
  private idle: (() => void) | undefined;

  constructor(address: string, settings: PoolSettings) {
    const colon = address.lastIndexOf(':');
    this.host = address.slice(0, colon).replace(/^\[|\]$/g, '');
    this.port = Number(address.slice(colon + 1));
    this.connectTimeoutMs = settings.connectTimeoutMs;
    this.agent = new Agent({ keepAlive: true, maxSockets: settings.connectionsPerEndpoint, timeout: settings.idleTimeoutMs });
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const headers: OutgoingHttpHeaders = { ...(options.headers as IncomingHttpHeaders), 'transfer-encoding': 'chunked' };
    delete headers['content-length'];
    const req = request({ agent: this.agent, host: this.host, port: this.port, method: options.method, path: options.path, headers, maxHeaderSize: MAX_UPSTREAM_HEADER_BYTES });
    this.active++;
    const exchange = new Exchange(req, handler, {
      connectTimeoutMs: this.connectTimeoutMs,
      headersTimeoutMs: options.headersTimeout ?? 300_000,
      bodyTimeoutMs: options.bodyTimeout ?? 300_000,
      done: () => {
        this.active--;
        if (this.active === 0) this.idle?.();
      },
    });
    exchange.send(options.body);
    return true;
  }

  /** Resolves once the exchanges in flight have finished, then closes the agent's sockets. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      const finish = (): void => {
        this.agent.destroy();
        resolve();
      };
      if (this.active === 0) finish();
      else this.idle = finish;
    });
  }

  destroy(): void {
    this.agent.destroy();
  }
}

interface ExchangeOptions {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  done: () => void;
}

/** One request and its response: relays node:http's events to the handler, at most one ending. */
class Exchange implements Dispatcher.DispatchController {
  private readonly req: ClientRequest;
  private readonly handler: Dispatcher.DispatchHandler;
  private readonly options: ExchangeOptions;
  private body: Readable | undefined;
  /** Whether the body has started to flow into this request (a connection was made). */
  private bodyStarted = false;
  private res: IncomingMessage | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  private isPaused = false;
  private abortReason: Error | null = null;

  constructor(req: ClientRequest, handler: Dispatcher.DispatchHandler, options: ExchangeOptions) {
    this.req = req;
    this.handler = handler;
    this.options = options;
  }

  get aborted(): boolean {
    return this.abortReason !== null;
  }

  get paused(): boolean {
    return this.isPaused;
  }

  get reason(): Error | null {
    return this.abortReason;
  }

  send(body: Dispatcher.DispatchOptions['body']): void {
    const req = this.req;
    req.on('error', (error) => this.fail(error));
    req.on('socket', (socket) => {
      if (!socket.connecting) {
        this.startBody();
        return;
      }
      this.arm(this.options.connectTimeoutMs, () => timeoutError('UND_ERR_CONNECT_TIMEOUT', `connect timed out after ${this.options.connectTimeoutMs} ms`));
      socket.once('connect', () => {
        this.disarm();
        this.startBody();
      });
    });
    req.on('finish', () => {
      if (this.res !== undefined || this.ended) return; // the upstream answered before reading the whole body
      this.arm(this.options.headersTimeoutMs, () => timeoutError('UND_ERR_HEADERS_TIMEOUT', `no response headers within ${this.options.headersTimeoutMs} ms`));
    });
    req.on('response', (res) => this.onResponse(res));
    this.deliver(() => this.handler.onRequestStart?.(this, {}));
    if (this.ended) return;
    if (body instanceof Readable) {
      // Part of it went to an earlier attempt: what is left cannot be sent as this request's body.
      if (body.readableDidRead || body.readableEnded) {
        this.abort(new Error('request body was already read by an earlier attempt'));
        return;
      }
      this.body = body;
      body.once('error', (error: Error) => this.abort(error));
    } else if (body === null || body === undefined) {
      req.end();
    } else if (typeof body === 'string' || body instanceof Uint8Array) {
      req.end(body);
    } else {
      this.abort(new Error('request body type not supported for trailers'));
    }
  }

  /**
   * The body is read only once a connection is there, as undici does: after a failed connect it is still whole,
   * for a fallback Service to receive.
   */
  private startBody(): void {
    const body = this.body;
    if (!body || this.ended) return;
    const req = this.req;
    this.bodyStarted = true;
    body.pipe(req, { end: false });
    body.once('end', () => {
      if (this.ended) return;
      try {
        req.addTrailers(forwardableTrailers((body as Partial<IncomingMessage>).trailers ?? {}));
      } catch (error) {
        this.abort(error as Error);
        return;
      }
      req.end();
    });
  }

  private onResponse(res: IncomingMessage): void {
    this.disarm();
    if (this.ended) {
      res.destroy();
      return;
    }
    this.res = res;
    if (this.isPaused) res.pause();
    this.deliver(() => this.handler.onResponseStart?.(this, res.statusCode ?? 0, res.headers, res.statusMessage));
    if (this.ended) return;
    if (!this.isPaused) this.armBodyTimeout();
    res.on('data', (chunk: Buffer) => {
      this.timer?.refresh();
      if (!this.ended) this.deliver(() => this.handler.onResponseData?.(this, chunk));
    });
    res.on('end', () => {
      if (this.ended) return;
      this.settle();
      this.deliver(() => this.handler.onResponseEnd?.(this, res.trailers));
    });
    res.on('error', (error) => this.fail(error));
    res.on('close', () => {
      if (!res.complete) this.fail(Object.assign(new Error('upstream closed the response before its end'), { code: 'UND_ERR_SOCKET' }));
    });
  }

  /** Fails the exchange with `onExpire`'s error unless disarmed within `ms`. */
  private arm(ms: number, onExpire: () => Error): void {
    this.disarm();
    if (ms <= 0) return;
    this.timer = setTimeout(() => this.abort(onExpire()), ms);
    this.timer.unref();
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Idle time between response bytes; it does not run while the handler holds the response paused. */
  private armBodyTimeout(): void {
    const ms = this.options.bodyTimeoutMs;
    this.arm(ms, () => timeoutError('UND_ERR_BODY_TIMEOUT', `no response body bytes for ${ms} ms`));
  }

  /** A throw from the handler ends the exchange with that error instead of escaping an event listener. */
  private deliver(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.abort(error instanceof Error ? error : new Error(String(error)));
    }
  }

  abort(reason: Error): void {
    if (this.ended) return;
    this.abortReason = reason;
    this.res?.destroy();
    this.fail(reason);
  }

  pause(): void {
    this.isPaused = true;
    this.res?.pause();
    if (this.res) this.disarm();
  }

  resume(): void {
    this.isPaused = false;
    this.res?.resume();
    if (this.res && !this.ended) this.armBodyTimeout();
  }

  private fail(error: Error): void {
    if (this.ended) return;
    this.settle();
    this.req.destroy();
    try {
      this.handler.onResponseError?.(this, this.abortReason ?? error);
    } catch {
      // Nothing is left to report it to: the exchange has ended.
    }
  }

  /**
   * Ends the exchange. A request not yet fully sent (the upstream answered early, or it failed) is cut, as undici
   * resets the connection: its socket must not return to the agent mid-body. A body that had started to flow is
   * read to its end and dropped so the client is not left stalled; one never started stays whole for a fallback.
   */
  private settle(): void {
    this.ended = true;
    this.disarm();
    if (!this.req.writableFinished) {
      const body = this.body;
      if (body && this.bodyStarted) {
        body.unpipe(this.req);
        body.resume();
      }
      this.req.destroy();
    }
    this.options.done();
  }
}
