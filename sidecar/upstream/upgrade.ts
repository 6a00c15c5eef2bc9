import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { addForwardedHeaders, stripHopByHop } from '../http/headers.ts';
import { REASONS } from '../http/reason.ts';
import type { ServiceRuntime } from '../runtime/service.ts';
import { classifyUpstreamError } from './classify-error.ts';

const { STATUS_CODES } = process.getBuiltinModule('node:http');

/** How long an upgraded connection may carry no bytes either way, and who hears that it was cut for it. */
export interface TunnelIdle {
  /** The Mesh's `downstream.streamIdleTimeout`, which bounds an upgraded stream as Envoy's stream idle timeout does. */
  timeoutMs: number;
  onIdle?: (() => void) | undefined;
}

/**
 * WebSocket and other `Upgrade` requests: the handshake goes through the endpoint's undici pool; after a 101 the
 * two sockets are spliced until either closes or no byte moves either way for `idle.timeoutMs`. A refusal (any
 * non-101 answer) is relayed to the client and the connection closed.
 */
export function proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, service: ServiceRuntime | undefined, path: string, idle: TunnelIdle): void {
  socket.on('error', () => socket.destroy());
  const endpoint = service?.balancer.pick();
  const pool = endpoint && service?.dispatcherFor(endpoint);
  if (!pool) {
    rawReply(socket, REASONS.UH.status, 'UH: no healthy upstream endpoint');
    return;
  }
  const protocol = req.headers.upgrade ?? 'websocket';
  const headers = req.headers;
  stripHopByHop(headers, false);
  addForwardedHeaders(headers, req.socket.remoteAddress);
  pool.dispatch(
    { path, method: (req.method ?? 'GET') as Dispatcher.HttpMethod, headers: headers as Record<string, string>, upgrade: protocol, body: null },
    new UpgradeHandler(socket, head, idle),
  );
}

class UpgradeHandler implements Dispatcher.DispatchHandler {
  private readonly client: Duplex;
  private readonly head: Buffer;
  private readonly idle: TunnelIdle;
  private responded = false;

  constructor(client: Duplex, head: Buffer, idle: TunnelIdle) {
    this.client = client;
    this.head = head;
    this.idle = idle;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.client.once('close', () => {
      if (!this.responded) controller.abort(new Error('client disconnected'));
    });
  }

  onRequestUpgrade(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, upstream: Duplex): void {
    this.responded = true;
    const client = this.client;
    client.write(`HTTP/1.1 ${statusCode} Switching Protocols\r\n${serializeHeaders(headers)}\r\n`);
    if (this.head.length > 0) upstream.write(this.head);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.pipe(client);
    client.pipe(upstream);
    // Every byte of the tunnel crosses the client's socket, one way or the other, and each read or write refreshes
    // that socket's timer: one timer sees both directions.
    if (client instanceof Socket) {
      const { timeoutMs, onIdle } = this.idle;
      client.setTimeout(timeoutMs, () => {
        onIdle?.();
        client.destroy();
      });
    }
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    this.responded = true;
    stripHopByHop(headers, false);
    delete headers['content-length'];
    headers.connection = 'close';
    this.client.write(`HTTP/1.1 ${statusCode} ${statusMessage ?? ''}\r\n${serializeHeaders(headers)}\r\n`);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.client.write(chunk);
  }

  onResponseEnd(): void {
    this.client.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.responded) {
      this.client.destroy();
      return;
    }
    this.responded = true;
    const flag = classifyUpstreamError(error);
    rawReply(this.client, REASONS[flag].status, `${flag}: ${REASONS[flag].text}`);
  }
}

function serializeHeaders(headers: IncomingHttpHeaders): string {
  let out = '';
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out += `${name}: ${v}\r\n`;
    else out += `${name}: ${value}\r\n`;
  }
  return out;
}

function rawReply(socket: Duplex, status: number, body: string): void {
  const text = `${body}\n`;
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
}
