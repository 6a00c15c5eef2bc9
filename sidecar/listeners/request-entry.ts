import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { addForwardedHeaders, stripHopByHop } from '../http/headers.ts';
import { sendFailure } from '../http/local-reply.ts';
import { DEBUG_REQUEST_HEADER } from '../http/reason.ts';
import { CancelReason, cancelRequest, newRequestContext, type Direction, type Handler, type Outcome, type RequestContext } from '../pipeline/context.ts';
import type { RuntimeConfig } from '../runtime/compile.ts';

/** Called once per finished request; `onStart`, when set, once as it enters its chain (e.g. an in-flight gauge). */
export interface RequestObserver {
  (ctx: RequestContext, outcome: Outcome): void;
  onStart?: ((ctx: RequestContext) => void) | undefined;
}

export interface RequestTarget {
  authority: string | undefined;
  path: string;
  query: string;
  hasQuery: boolean;
}

/**
 * Splits `req.url` (origin-form or absolute-form) into authority, path and query. Returns undefined when malformed,
 * including a fragment (`#`), which RFC 9112 §3.2 does not allow in a request target and which llhttp lets through:
 * routes would match `/admin#x` while the app serves `/admin`.
 */
export function splitTarget(url: string): RequestTarget | undefined {
  if (url.includes('#')) return undefined;
  let rest = url;
  let authority: string | undefined;
  if (url.charCodeAt(0) !== 47 /* / */) {
    const lower = url.slice(0, 7).toLowerCase();
    if (lower !== 'http://') return undefined;
    const slash = url.indexOf('/', 7);
    const end = slash === -1 ? (url.indexOf('?', 7) === -1 ? url.length : url.indexOf('?', 7)) : slash;
    authority = url.slice(7, end);
    if (authority === '' || authority.includes('@')) return undefined;
    rest = slash === -1 ? `/${url.slice(end)}` : url.slice(end);
  }
  const q = rest.indexOf('?');
  return q === -1 ? { authority, path: rest, query: '', hasQuery: false } : { authority, path: rest.slice(0, q), query: rest.slice(q + 1), hasQuery: true };
}

/** Builds the per-request context and sanitises the headers that go upstream (in place, no copy). */
export function createContext(req: IncomingMessage, res: ServerResponse, direction: Direction, target: RequestTarget, config: RuntimeConfig): RequestContext {
  const headers = req.headers;
  const length = headers['content-length'];
  const chunked = headers['transfer-encoding'] !== undefined;
  const hasBody = chunked || (length !== undefined && length !== '0');
  const announcesTrailers = chunked && headers.trailer !== undefined;
  stripHopByHop(headers, true);
  delete headers.expect; // the listener already answered 100-continue
  let requestId = headers['x-request-id'];
  if (typeof requestId !== 'string' || requestId === '' || requestId.length > 256) {
    requestId = randomUUID();
    headers['x-request-id'] = requestId;
  }
  addForwardedHeaders(headers, req.socket.remoteAddress);
  return newRequestContext({
    req,
    res,
    direction,
    path: target.path,
    query: target.query,
    hasQuery: target.hasQuery,
    requestId,
    hasBody,
    announcesTrailers,
    exposeFlag: exposesFlag(req, config),
  });
}

/** Whether replies to this request may carry the reason header: the Mesh's `reasonHeader`, or the client asked. */
export function exposesFlag(req: IncomingMessage, config: RuntimeConfig): boolean {
  const mode = config.mesh.reasonHeader;
  return mode === 'Always' || (mode === 'OnRequest' && req.headers[DEBUG_REQUEST_HEADER] !== undefined);
}

/** The request a response belongs to, for the listeners below: shared functions, not two closures per request. */
const REQUEST_CONTEXT = Symbol('outrigger.requestContext');
type TrackedResponse = ServerResponse & { [REQUEST_CONTEXT]?: RequestContext };

function onResponseClose(this: TrackedResponse): void {
  const ctx = this[REQUEST_CONTEXT];
  if (ctx && !this.writableFinished) cancelRequest(ctx, new CancelReason('DC', 'client disconnected'));
}

function onResponseTimeout(this: TrackedResponse): void {
  const ctx = this[REQUEST_CONTEXT];
  if (ctx) cancelRequest(ctx, new CancelReason('SI', 'no bytes moved either way within the stream idle timeout'));
}

/** Runs a chain and turns its outcome into a response: the single place failures become replies. */
export function runChain(ctx: RequestContext, handler: Handler, observe: RequestObserver): void {
  const res: TrackedResponse = ctx.res;
  observe.onStart?.(ctx);
  res[REQUEST_CONTEXT] = ctx;
  // A response closes once ('close' is its last event).
  res.on('close', onResponseClose);
  // The listener's stream idle timeout: answered 408 (SI) if nothing was sent yet, otherwise the connection is cut.
  // The listener checks for this listener after it has run.
  res.on('timeout', onResponseTimeout);
  handler(ctx).then(
    (outcome) => finish(ctx, outcome, observe),
    (error: unknown) => finish(ctx, { status: 500, committed: res.headersSent, flag: 'UC', detail: String(error) }, observe),
  );
}

export function finish(ctx: RequestContext, outcome: Outcome, observe: RequestObserver): void {
  if (outcome.flag) ctx.flag = outcome.flag;
  if (!outcome.committed && outcome.flag && outcome.flag !== 'DC') {
    if (!ctx.res.headersSent) ctx.res.setHeader('x-request-id', ctx.requestId);
    sendFailure(ctx.res, outcome.flag, outcome.detail, ctx.exposeFlag);
    outcome = { ...outcome, status: ctx.res.statusCode, committed: true };
  }
  ctx.trace?.end(ctx, outcome);
  observe(ctx, outcome);
}
