import type { ServerResponse } from 'node:http';
import { REASON_HEADER, REASONS, type ReasonFlag } from './reason.ts';

/**
 * The one place where the sidecar answers a request itself: errors it detected, redirects, fallbacks.
 * Bodies are short plain text that says why, so `curl` users see the cause without reading logs.
 */
export function sendLocalReply(
  res: ServerResponse,
  status: number,
  body: string,
  options: { flag?: ReasonFlag | undefined; exposeFlag?: boolean; headers?: Record<string, string>; close?: boolean; exactBody?: boolean } = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = Buffer.from(options.exactBody || body.endsWith('\n') ? body : `${body}\n`);
  res.statusCode = status;
  if (!options.headers || !Object.keys(options.headers).some((h) => h.toLowerCase() === 'content-type')) res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('content-length', payload.length);
  if (options.headers) for (const [name, value] of Object.entries(options.headers)) res.setHeader(name, value);
  if (options.flag !== undefined && options.exposeFlag) res.setHeader(REASON_HEADER, options.flag);
  if (options.close) res.setHeader('connection', 'close');
  res.end(res.req.method === 'HEAD' ? undefined : payload);
}

/** Failures after which the rest of the request body, if any, cannot be trusted or may never come: close the connection. */
const CLOSING_FLAGS: ReadonlySet<ReasonFlag> = new Set<ReasonFlag>(['DPE', 'SI']);

/** The reply for a failure flag: its status and a body naming the flag and the detail. */
export function sendFailure(res: ServerResponse, flag: ReasonFlag, detail: string | undefined, exposeFlag: boolean): void {
  const reason = REASONS[flag];
  const text = detail ? `${reason.text}: ${detail}` : reason.text;
  sendLocalReply(res, reason.status, `${flag}: ${text}`, { flag, exposeFlag, close: CLOSING_FLAGS.has(flag) });
}
