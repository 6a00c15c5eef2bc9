import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RawResponse {
  status: number;
  /** Lower-cased names; repeated fields joined with `, `. */
  headers: Record<string, string>;
  body: string;
  /** The response carries `Connection: close`. */
  closes: boolean;
}

export interface RawExchange {
  /** Final responses in order; interim (1xx) responses are skipped. */
  responses: RawResponse[];
  /** Bytes after the last whole response that do not form one. */
  leftover: string;
  /** The server closed the connection. */
  closedByServer: boolean;
  /** Nothing more came for `idleMs` after the last write while a response was still owed. */
  timedOut: boolean;
}

export interface ExchangeOptions {
  /** Pause between writes, so each part reaches the server as its own packet. */
  gapMs: number;
  /** Responses the client is owed if everything goes through; reaching it ends the exchange early. */
  expectedResponses: number;
  /** How long to wait for more after the last write (and after the last byte received). */
  idleMs: number;
}

type Parsed = { response: RawResponse; next: number } | undefined;

/** One response at `pos`, or undefined when it is not whole yet (a body without framing ends with the connection). */
function parseResponse(data: string, pos: number, closed: boolean): Parsed {
  const headEnd = data.indexOf('\r\n\r\n', pos);
  if (headEnd < 0) return undefined;
  const lines = data.slice(pos, headEnd).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const closes = (headers.connection ?? '').split(',').some((token) => token.trim().toLowerCase() === 'close');
  let bodyStart = headEnd + 4;
  const done = (body: string, next: number): Parsed => ({ response: { status, headers, body, closes }, next });
  if ((status >= 100 && status < 200) || status === 204 || status === 304) return done('', bodyStart);
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    let body = '';
    for (;;) {
      const lineEnd = data.indexOf('\r\n', bodyStart);
      if (lineEnd < 0) return undefined;
      const size = parseInt(data.slice(bodyStart, lineEnd), 16);
      if (Number.isNaN(size)) return undefined;
      if (size === 0) {
        const trailerEnd = data.indexOf('\r\n\r\n', lineEnd);
        if (data.startsWith('\r\n', lineEnd + 2)) return done(body, lineEnd + 4);
        return trailerEnd < 0 ? undefined : done(body, trailerEnd + 4);
      }
      if (data.length < lineEnd + 2 + size + 2) return undefined;
      body += data.slice(lineEnd + 2, lineEnd + 2 + size);
      bodyStart = lineEnd + 2 + size + 2;
    }
  }
  if (headers['content-length'] !== undefined) {
    const end = bodyStart + Number(headers['content-length']);
    return data.length < end ? undefined : done(data.slice(bodyStart, end), end);
  }
  return closed ? done(data.slice(bodyStart), data.length) : undefined;
}

function parseResponses(data: string, closed: boolean): { responses: RawResponse[]; leftover: string } {
  const responses: RawResponse[] = [];
  let pos = 0;
  for (;;) {
    const parsed = parseResponse(data, pos, closed);
    if (!parsed) return { responses, leftover: data.slice(pos) };
    pos = parsed.next;
    if (parsed.response.status >= 200 || parsed.response.status === 0) responses.push(parsed.response);
  }
}

/**
 * Sends raw bytes as separate writes and reads the replies until the server closes, or the expected number of
 * responses arrived (plus a short grace period to catch anything extra), or nothing came for `idleMs`.
 */
export async function exchangeRaw(port: number, parts: readonly string[], options: ExchangeOptions): Promise<RawExchange> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  socket.on('error', () => undefined); // a server closing mid-write resets us; what it answered was read already
  let data = '';
  let closedByServer = false;
  let lastActivity = Date.now();
  socket.on('data', (chunk: Buffer) => {
    data += chunk.toString('latin1');
    lastActivity = Date.now();
  });
  socket.once('close', () => (closedByServer = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  for (const [i, part] of parts.entries()) {
    if (i > 0) await sleep(options.gapMs);
    if (closedByServer || socket.destroyed) break;
    socket.write(Buffer.from(part, 'latin1'));
    lastActivity = Date.now();
  }
  let timedOut = false;
  let graceUntil: number | undefined;
  for (;;) {
    if (closedByServer) break;
    if (parseResponses(data, false).responses.length >= options.expectedResponses) {
      graceUntil ??= Date.now() + 15;
      if (Date.now() >= graceUntil) break;
    } else if (Date.now() - lastActivity >= options.idleMs) {
      timedOut = true;
      break;
    }
    await sleep(2);
  }
  socket.destroy();
  return { ...parseResponses(data, closedByServer), closedByServer, timedOut };
}
