import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Outcome, RequestContext } from '../pipeline/context.ts';

/**
 * One JSON line per request. Lines are batched and written once per event-loop turn, so logging never
 * blocks a request and costs one write syscall per batch rather than one per request. With sampling, a share of
 * successful requests is logged and every failure (status ≥ 400 or a reason flag) still is.
 */
export class AccessLog {
  private readonly out: Writable;
  private readonly sampleRate: number;
  private readonly random: () => number;
  private pending: string[] = [];
  private scheduled = false;

  constructor(destination: 'stdout' | string, options: { sampleRate?: number; random?: () => number } = {}) {
    this.out = destination === 'stdout' ? process.stdout : createWriteStream(destination, { flags: 'a' });
    this.sampleRate = options.sampleRate ?? 1;
    this.random = options.random ?? Math.random;
  }

  record(ctx: RequestContext, outcome: Outcome): void {
    const failed = outcome.status >= 400 || ctx.flag !== undefined;
    if (!failed && this.sampleRate < 1 && this.random() >= this.sampleRate) return;
    const durationMs = Math.round((performance.now() - ctx.startedAt) * 1000) / 1000;
    const length = ctx.req.headers['content-length'];
    this.pending.push(
      JSON.stringify({
        time: new Date().toISOString(),
        traceId: ctx.trace?.traceId,
        requestId: ctx.requestId,
        direction: ctx.direction,
        method: ctx.method,
        authority: ctx.req.headers.host,
        path: ctx.path,
        route: ctx.routeName || undefined,
        destination: ctx.destination || undefined,
        status: outcome.status,
        flag: ctx.flag,
        detail: outcome.detail,
        attempts: ctx.attempts,
        upstream: ctx.endpoint?.address,
        durationMs,
        bytesReceived: length === undefined ? undefined : Number(length),
        bytesSent: ctx.bytesSent,
        source: ctx.direction === 'inbound' ? ctx.req.headers['x-outrigger-source'] : undefined,
      }),
    );
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const batch = `${this.pending.join('\n')}\n`;
    this.pending = [];
    this.out.write(batch);
  }

  close(): Promise<void> {
    this.flush();
    if (this.out === process.stdout) return Promise.resolve();
    return new Promise((resolve) => this.out.end(resolve));
  }
}
