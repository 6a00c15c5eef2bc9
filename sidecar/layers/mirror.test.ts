import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PassThrough } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Handler, Outcome, RequestContext } from '../pipeline/context.ts';
import { MIRROR_BODY_LIMIT_BYTES, mirror, type MirrorTarget } from './mirror.ts';
import { retryContext } from './retry/test-support.ts';

interface Copy {
  options: Dispatcher.DispatchOptions;
}

/** A mirror target whose dispatcher records each copy instead of sending it. */
function recordingTarget(selected = true): { target: MirrorTarget; copies: Copy[]; reports: string[] } {
  const copies: Copy[] = [];
  const reports: string[] = [];
  const dispatcher = {
    dispatch(options: Dispatcher.DispatchOptions): boolean {
      copies.push({ options });
      return true;
    },
  } as unknown as Dispatcher;
  return { target: { selected: () => selected, dispatcher: () => dispatcher, onSent: (outcome) => reports.push(outcome) }, copies, reports };
}

/** The original's side: what body it would send upstream. */
function originalUpstream(): { handler: Handler; seen: (Buffer | 'stream' | null)[] } {
  const seen: (Buffer | 'stream' | null)[] = [];
  return {
    seen,
    handler: (ctx: RequestContext): Promise<Outcome> => {
      seen.push(ctx.replayBody ?? (ctx.hasBody ? 'stream' : null));
      return Promise.resolve({ status: 200, committed: true });
    },
  };
}

function withBody(body: string | undefined, headers: Record<string, string>) {
  const stream = new PassThrough();
  const ctx = retryContext({ method: 'POST', headers: { host: 'reviews:8080', ...headers }, body: stream });
  if (body !== undefined) setImmediate(() => stream.end(body));
  return { ctx, stream };
}

describe('RequestMirror layer', () => {
  it('copies a bodiless request at once, with a -shadow Host, and the original is not held', async () => {
    const { target, copies } = recordingTarget();
    const upstream = originalUpstream();
    const ctx = retryContext({ headers: { host: 'reviews:8080' } });
    const outcome = await mirror([target])!(upstream.handler)(ctx);
    assert.equal(outcome.status, 200);
    assert.equal(copies.length, 1);
    assert.equal((copies[0]!.options.headers as Record<string, string>).host, 'reviews-shadow:8080');
    assert.equal(copies[0]!.options.body, null);
    assert.deepEqual(upstream.seen, [null]);
  });

  it('copies a body with a Content-Length within the limit, and the original sends the same bytes', async () => {
    const { target, copies, reports } = recordingTarget();
    const upstream = originalUpstream();
    const { ctx } = withBody('{"rating":5}', { 'content-length': '12' });
    await mirror([target])!(upstream.handler)(ctx);
    assert.equal(copies.length, 1);
    assert.equal((copies[0]!.options.body as Buffer).toString(), '{"rating":5}');
    assert.equal((upstream.seen[0] as Buffer).toString(), '{"rating":5}');
    assert.deepEqual(reports, []);
  });

  it('does not copy a chunked body, or one over the limit, and the original streams it', async () => {
    for (const headers of [{ 'transfer-encoding': 'chunked' }, { 'content-length': String(MIRROR_BODY_LIMIT_BYTES + 1) }]) {
      const { target, copies, reports } = recordingTarget();
      const upstream = originalUpstream();
      const { ctx } = withBody(undefined, headers);
      await mirror([target])!(upstream.handler)(ctx);
      assert.equal(copies.length, 0);
      assert.deepEqual(reports, ['skipped-body']);
      assert.deepEqual(upstream.seen, ['stream']);
    }
  });

  it('reads nothing when no target is selected: the body streams as usual', async () => {
    const { target, copies } = recordingTarget(false);
    const upstream = originalUpstream();
    const { ctx } = withBody(undefined, { 'content-length': '5' });
    await mirror([target])!(upstream.handler)(ctx);
    assert.equal(copies.length, 0);
    assert.deepEqual(upstream.seen, ['stream']);
  });

  it('a body shorter than its Content-Length fails the original with DPE and sends no copy', async () => {
    const { target, copies } = recordingTarget();
    const upstream = originalUpstream();
    const { ctx } = withBody('short', { 'content-length': '10' });
    const outcome = await mirror([target])!(upstream.handler)(ctx);
    assert.equal(outcome.flag, 'DPE');
    assert.equal(copies.length, 0);
    assert.deepEqual(upstream.seen, []);
  });

  it('a closed pool loses the copy, never the original', async () => {
    const reports: string[] = [];
    const closed = { dispatch: () => { throw new Error('The client is destroyed'); } } as unknown as Dispatcher;
    const target: MirrorTarget = { selected: () => true, dispatcher: () => closed, onSent: (outcome) => reports.push(outcome) };
    const upstream = originalUpstream();
    const outcome = await mirror([target])!(upstream.handler)(retryContext({ headers: { host: 'reviews' } }));
    assert.equal(outcome.status, 200);
    assert.deepEqual(reports, ['failed']);
  });
});
