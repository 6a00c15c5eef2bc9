import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Outcome, RequestContext } from '../pipeline/context.ts';

/**
 * One JSON line per request. Lines are batched and written once per event-loop turn, so logging never
 * blocks a request and costs one write syscall per batch rather than one per request.
 */
export class AccessLog {
  private readonly out: Writable;
  private pending: string[] = [];
  private scheduled = false;

  constructor(destination: 'stdout' | string) {
    this.out = destination === 'stdout' ? process.stdout : createWriteStream(destination, { flags: 'a' });
  }

  record(ctx: RequestContext, outcome: Outcome): void {
    const durationMs = Math.round((performance.now() - ctx.startedAt) * 1000) / 1000;
    this.pending.push(
      JSON.stringify({
        time: new Date().toISOString(),
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
        bytesSent: ctx.bytesSent,
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
