import type { IncomingMessage } from 'node:http';
import type { RejectReason } from './http-server.ts';

/** `reg-name` or IP literal with an optional port (RFC 3986), as a Host value must be; no userinfo, no list. */
const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+;=]+)(?::[0-9]{1,5})?$/;

export interface RequestProblem {
  reason: RejectReason;
  status: number;
  body: string;
}

/**
 * What the strict parser lets through but a proxy must refuse (RFC 9112): versions other than HTTP/1.x (llhttp
 * accepts `HTTP/2.0` and HTTP/0.9-style lines), more header fields than allowed, Transfer-Encoding other than
 * exactly `chunked` (or in HTTP/1.0), and a missing (HTTP/1.1), repeated or malformed Host. Also repairs what Node's
 * header object loses: a field named `__proto__` (a valid token) that a plain object cannot hold.
 */
export function checkRequest(req: IncomingMessage, maxHeaders: number): RequestProblem | undefined {
  const raw = req.rawHeaders;
  if (raw.length > maxHeaders * 2) return { reason: 'header_too_large', status: 431, body: `more than ${maxHeaders} header fields` };
  if (req.httpVersionMajor !== 1) return { reason: 'bad_version', status: 505, body: 'only HTTP/1.0 and HTTP/1.1 are served here' };
  const te = req.headers['transfer-encoding'];
  // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 request is faulty framing.
  if (te !== undefined && (te.toLowerCase() !== 'chunked' || req.httpVersionMinor === 0)) return { reason: 'bad_request', status: 400, body: 'Transfer-Encoding must be exactly "chunked"' };
  let hosts = 0;
  let proto = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
    else if (name.length === 9 && name.toLowerCase() === '__proto__') proto = true;
  }
  const host = req.headers.host;
  if (hosts > 1 || (host !== undefined && !HOST_VALUE.test(host)) || (host === undefined && req.httpVersionMinor !== 0)) return { reason: 'bad_host', status: 400, body: 'a request needs exactly one well-formed Host header' };
  if (proto) restoreProtoField(req);
  return undefined;
}

/** Node drops a `__proto__` field (assigning it to a plain object sets the prototype); put it back as an own property. */
function restoreProtoField(req: IncomingMessage): void {
  const values: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) if ((req.rawHeaders[i] as string).toLowerCase() === '__proto__') values.push(req.rawHeaders[i + 1] as string);
  Object.defineProperty(req.headers, '__proto__', { value: values.join(', '), enumerable: true, writable: true, configurable: true });
}

/**
 * RFC 9112 §9.6: `close` in Connection ends the connection after the response. llhttp honours it in HTTP/1.1, but in
 * HTTP/1.0 a `keep-alive` token beside it wins; make `close` win there too.
 */
export function closeRequested(req: IncomingMessage): boolean {
  if (req.httpVersionMinor !== 0) return false;
  const connection = req.headers.connection;
  return connection !== undefined && /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i.test(connection);
}
