import { createServer, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ForwardedRequest } from './expected-forward.ts';
import { parseRequest, type ReferenceRequest } from './reference-parser.ts';

/** A request the upstream received whole; it was answered `200` with body `recorded <seq>`. */
export interface RecordedRequest extends ForwardedRequest {
  seq: number;
  connection: number;
  raw: string;
}

export type UpstreamEvent =
  | { kind: 'request'; request: RecordedRequest }
  /** Bytes that are not a canonical HTTP/1.1 request: a proxy must never send them. The connection was closed. */
  | { kind: 'malformed'; connection: number; reason: string; raw: string }
  /** The proxy closed a connection in the middle of a request (it gave up on a request it had started to forward). */
  | { kind: 'aborted'; connection: number; raw: string };

export interface RecordingUpstream {
  address: string;
  /** A position in the event log; `eventsSince` returns what happened after it. */
  mark(): number;
  eventsSince(mark: number): UpstreamEvent[];
  /** Connections holding part of a request: the proxy has started one and neither finished nor aborted it. */
  openPartials(): { connection: number; raw: string }[];
  /** Waits (up to `timeoutMs`) until no connection holds part of a request. */
  settle(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** What a proxy may send upstream, beyond what parses: the request line undici writes, and one unambiguous framing. */
function canonicalProblem(request: ReferenceRequest): string | undefined {
  if (request.requestLine !== `${request.method} ${request.target} HTTP/1.1`) return `request line ${JSON.stringify(request.requestLine)}`;
  if (request.refuse !== undefined) return request.refuse;
  if (!request.target.startsWith('/') && request.target !== '*') return `target ${JSON.stringify(request.target)} is not origin-form`;
  const framing = request.fields.filter((f) => /^(content-length|transfer-encoding)$/i.test(f.name));
  if (framing.length > 1) return `framing fields ${JSON.stringify(framing)}`;
  if (framing[0] && /^transfer-encoding$/i.test(framing[0].name) && framing[0].value !== 'chunked') return `transfer-encoding ${JSON.stringify(framing[0].value)}`;
  return undefined;
}

/**
 * A raw TCP upstream that parses what it receives as strictly as the fuzzer's oracle (plus the canonical form undici
 * writes) and records every request, malformed byte sequence and aborted request, so each fuzz case can be judged
 * by the exact bytes that crossed the proxy. Each whole request is answered with `recorded <seq>`.
 */
export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const events: UpstreamEvent[] = [];
  const pending = new Map<Socket, { id: number; data: string }>();
  let connections = 0;
  let seq = 0;

  const onData = (socket: Socket, state: { id: number; data: string }): void => {
    for (;;) {
      if (state.data === '') return;
      const step = parseRequest(state.data, 0);
      if (step.kind === 'incomplete') return;
      const problem = step.kind === 'invalid' ? step.reason : canonicalProblem(step.request);
      if (step.kind === 'invalid' || problem !== undefined) {
        events.push({ kind: 'malformed', connection: state.id, reason: problem ?? 'unparsable', raw: state.data });
        state.data = '';
        socket.destroy();
        return;
      }
      const { request } = step;
      const recorded: RecordedRequest = { seq: ++seq, connection: state.id, method: request.method, target: request.target, fields: request.fields, body: request.body, trailers: request.trailers, raw: state.data.slice(0, request.end) };
      events.push({ kind: 'request', request: recorded });
      state.data = state.data.slice(request.end);
      const body = `recorded ${recorded.seq}`;
      socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    }
  };

  const server = createServer((socket) => {
    const state = { id: ++connections, data: '' };
    pending.set(socket, state);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      state.data += chunk.toString('latin1');
      onData(socket, state);
    });
    socket.once('close', () => {
      if (state.data !== '') events.push({ kind: 'aborted', connection: state.id, raw: state.data });
      pending.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const openPartials = (): { connection: number; raw: string }[] =>
    [...pending.values()].filter((state) => state.data !== '').map((state) => ({ connection: state.id, raw: state.data }));

  return {
    address: `127.0.0.1:${port}`,
    mark: () => events.length,
    eventsSince: (mark) => events.slice(mark),
    openPartials,
    async settle(timeoutMs) {
      const until = Date.now() + timeoutMs;
      while (openPartials().length > 0 && Date.now() < until) await sleep(10);
    },
    async close() {
      for (const socket of pending.keys()) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
