import { IncomingMessage, ServerResponse, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import type { RequestContext } from './context.ts';

/**
 * A request context over an unconnected socket, for unit tests of layers: replies written to `res` stay in
 * memory and can be read back from `res.statusCode` and `res.getHeaders()`.
 */
export function fakeContext(overrides: { method?: string; path?: string; headers?: IncomingHttpHeaders } = {}): RequestContext {
  const req = new IncomingMessage(new Socket());
  req.method = overrides.method ?? 'GET';
  req.url = overrides.path ?? '/';
  req.headers = { host: 'svc', ...overrides.headers };
  const res = new ServerResponse(req);
  return {
    req,
    res,
    direction: 'outbound',
    method: req.method,
    path: req.url,
    query: '',
    requestId: 'test-request',
    startedAt: performance.now(),
    hasBody: false,
    upstreamHeaders: req.headers,
    upstreamPath: req.url,
    destination: 'svc.default',
    routeName: '',
    hashKey: undefined,
    endpoint: undefined,
    attempts: 0,
    flag: undefined,
    responseHeaderModifiers: undefined,
    cancelAttempt: undefined,
    cancelled: undefined,
    retryableResponse: undefined,
    replayBody: undefined,
    deadlineAt: undefined,
    triedEndpoints: undefined,
    bytesReceived: 0,
    bytesSent: 0,
    trace: undefined,
    exposeFlag: true,
  };
}
