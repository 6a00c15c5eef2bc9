import type { Agent as HttpAgent, ClientRequest, IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { forwardableTrailers } from '../http/headers.ts';
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
    const req = request({ agent: this.agent, host: this.host, port: this.port, method: options.method, path: options.path, headers });
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
      if (!socket.connecting) return;
      this.arm(this.options.connectTimeoutMs, () => timeoutError('UND_ERR_CONNECT_TIMEOUT', `connect timed out after ${this.options.connectTimeoutMs} ms`));
      socket.once('connect', () => this.disarm());
    });
    req.on('finish', () => {
      if (this.res !== undefined || this.ended) return; // the upstream answered before reading the whole body
      this.arm(this.options.headersTimeoutMs, () => timeoutError('UND_ERR_HEADERS_TIMEOUT', `no response headers within ${this.options.headersTimeoutMs} ms`));
    });
    req.on('response', (res) => this.onResponse(res));
    this.handler.onRequestStart?.(this, {});
    if (this.ended) return;
    if (body instanceof Readable) {
      body.pipe(req, { end: false });
      body.once('end', () => {
        if (this.ended) return;
        const trailers = forwardableTrailers((body as Partial<IncomingMessage>).trailers ?? {});
        try {
          req.addTrailers(trailers);
        } catch (error) {
          this.abort(error as Error);
          return;
        }
        req.end();
      });
      body.once('error', (error: Error) => this.abort(error));
    } else if (body === null || body === undefined) {
      req.end();
    } else if (typeof body === 'string' || body instanceof Uint8Array) {
      req.end(body);
    } else {
      this.abort(new Error('request body type not supported for trailers'));
    }
  }

  private onResponse(res: IncomingMessage): void {
    this.disarm();
    if (this.ended) {
      res.destroy();
      return;
    }
    this.res = res;
    if (this.isPaused) res.pause();
    this.handler.onResponseStart?.(this, res.statusCode ?? 0, res.headers, res.statusMessage);
    if (this.ended) return;
    const bodyTimeoutMs = this.options.bodyTimeoutMs;
    this.arm(bodyTimeoutMs, () => timeoutError('UND_ERR_BODY_TIMEOUT', `no response body bytes for ${bodyTimeoutMs} ms`));
    res.on('data', (chunk: Buffer) => {
      this.timer?.refresh();
      if (!this.ended) this.handler.onResponseData?.(this, chunk);
    });
    res.on('end', () => {
      if (this.ended) return;
      this.settle();
      this.handler.onResponseEnd?.(this, res.trailers);
    });
    res.on('error', (error) => this.fail(error));
    res.on('close', () => {
      if (!res.complete) this.fail(Object.assign(new Error('upstream closed the response before its end'), { code: 'UND_ERR_SOCKET' }));
    });
  }

  /** Runs `onExpire` and fails the exchange with its error unless disarmed within `ms`. */
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

  abort(reason: Error): void {
    if (this.ended) return;
    this.abortReason = reason;
    this.req.destroy();
    this.res?.destroy();
    this.fail(reason);
  }

  pause(): void {
    this.isPaused = true;
    this.res?.pause();
  }

  resume(): void {
    this.isPaused = false;
    this.res?.resume();
  }

  private fail(error: Error): void {
    if (this.ended) return;
    this.settle();
    this.req.destroy();
    this.handler.onResponseError?.(this, this.abortReason ?? error);
  }

  private settle(): void {
    this.ended = true;
    this.disarm();
    this.options.done();
  }
}
