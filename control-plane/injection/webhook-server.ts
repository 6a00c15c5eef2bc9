/**
 * The mutating webhook over HTTPS, as the API server calls it: `POST /inject` with an AdmissionReview (JSON, at most
 * 1 MiB), `GET /healthz`. Protocol problems get 400/413/415 with a message; everything readable gets a 200 review
 * that allows the pod.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../mesh/log.ts';
import { reviewAdmission, type NamespaceLabelLookup } from './admission.ts';
import type { InjectorConfig } from './config.ts';

export const MAX_REVIEW_BYTES = 1024 * 1024;
/** Istio's injector port, for the Service in front of the webhook. */
export const DEFAULT_WEBHOOK_PORT = 15017;

export interface WebhookServerOptions {
  tls: { cert: string | Buffer; key: string | Buffer };
  config: InjectorConfig;
  namespaceLabels: NamespaceLabelLookup;
  log?: Logger | undefined;
  /** Other routes on the same HTTPS port (the external metrics API); true when handled. */
  extraRoutes?: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
}

/**
 * `POST /inject/namespace` is what the webhook entry selecting opted-in namespaces calls: the API server has already
 * matched the namespace label, so the namespace counts as opted in without asking the API for its labels.
 */
const OPTED_IN_NAMESPACE: NamespaceLabelLookup = () => ({ 'outrigger.dev/inject': 'enabled' });

export interface StartWebhookOptions extends WebhookServerOptions {
  /** Default 15017; 0 picks a free port. */
  port?: number;
  /** Default 0.0.0.0: the API server reaches the webhook through a Service. */
  host?: string;
}

export interface RunningWebhook {
  port: number;
  close(): Promise<void>;
}

export function createWebhookServer(options: WebhookServerOptions): Server {
  const server = createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
    try {
      route(options, req, res);
    } catch (error) {
      options.log?.error('webhook request failed', { error: error instanceof Error ? error.message : String(error) });
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  });
  // The API server gives a webhook 10 s by default; a client slower than that is not the API server.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  return server;
}

export function startWebhookServer(options: StartWebhookOptions): Promise<RunningWebhook> {
  const server = createWebhookServer(options);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_WEBHOOK_PORT, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? DEFAULT_WEBHOOK_PORT);
      options.log?.info('injection webhook listening', { address: `${options.host ?? '0.0.0.0'}:${port}` });
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
  });
}

function route(options: WebhookServerOptions, req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'https://injector').pathname;
  if (path === '/healthz') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
    return send(res, 200, { ok: true });
  }
  if (path !== '/inject' && path !== '/inject/namespace') {
    if (options.extraRoutes?.(req, res)) return;
    return send(res, 404, { error: `no such path ${path}`, paths: ['/inject', '/inject/namespace', '/healthz'] });
  }
  const namespaceLabels = path === '/inject/namespace' ? OPTED_IN_NAMESPACE : options.namespaceLabels;
  if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    req.resume();
    return send(res, 415, { error: `Content-Type must be application/json, got ${req.headers['content-type'] ?? 'none'}` });
  }
  // Past the limit the body is read on and thrown away, then answered: replying mid-upload would reset the connection
  // under the client before it reads the 413. The request timeout bounds how long a client can keep sending.
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_REVIEW_BYTES) chunks.push(chunk);
    else chunks.length = 0;
  });
  req.on('error', () => res.destroy());
  req.on('end', () => {
    if (size > MAX_REVIEW_BYTES) {
      res.setHeader('connection', 'close');
      return send(res, 413, { error: `an AdmissionReview must be at most ${MAX_REVIEW_BYTES} bytes, got ${size}` });
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (error) {
      return send(res, 400, { error: `malformed JSON: ${(error as Error).message}` });
    }
    const { reply, outcome } = reviewAdmission(body, options.config, namespaceLabels);
    const fields = { uid: outcome.uid, namespace: outcome.namespace, pod: outcome.pod, code: outcome.code, reason: outcome.reason, ...(outcome.notes.length > 0 ? { notes: outcome.notes } : {}), ...(outcome.dryRun ? { dryRun: true } : {}) };
    if (outcome.injected) options.log?.info('sidecar injected', fields);
    else if (outcome.code === 'error' || outcome.code === 'bad-review') options.log?.warn('sidecar not injected', fields);
    else options.log?.debug('sidecar not injected', fields);
    send(res, 200, reply);
  });
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  send(res, 405, { error: `method not allowed: use ${allow}` });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}
