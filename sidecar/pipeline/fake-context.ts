import { IncomingMessage, ServerResponse, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import { newRequestContext, type RequestContext } from './context.ts';

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
  const ctx = newRequestContext({ req, res, direction: 'outbound', path: req.url, query: '', requestId: 'test-request', hasBody: false, exposeFlag: true });
  ctx.destination = 'svc.default';
  return ctx;
}
