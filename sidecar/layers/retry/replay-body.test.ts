import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { CancelReason, cancelRequest } from '../../pipeline/context.ts';
import { RetryBudget } from './budget.ts';
import { DEFAULT_BUDGET, resolveRetryPolicy } from './policy.ts';
import { prepareBody } from './replay-body.ts';
import { retryLayer } from './retry-layer.ts';
import { retryContext, scriptedUpstream, type Step } from './test-support.ts';

function bodyContext(declared: number | undefined, method = 'PUT') {
  const body = new PassThrough();
  const headers = declared === undefined ? {} : { 'content-length': String(declared) };
  return { body, ctx: retryContext({ method, headers, body }) };
}

async function send(ctx: ReturnType<typeof retryContext>, steps: Step[]) {
  const layer = retryLayer(resolveRetryPolicy(), new RetryBudget(DEFAULT_BUDGET), { sleep: () => Promise.resolve(), random: () => 0 })!;
  const upstream = scriptedUpstream(steps);
  return { outcome: await layer(upstream.handler)(ctx), upstream };
}

describe('request bodies and retries', () => {
  it('buffers a small body with a Content-Length and replays it on every attempt', async () => {
    const { body, ctx } = bodyContext(11);
    body.write('hello ');
    setImmediate(() => body.end('world'));
    const { outcome, upstream } = await send(ctx, [{ status: 503 }, { flag: 'UC' }]);
    assert.equal(outcome.status, 200);
    assert.equal(upstream.bodies.length, 3);
    for (const sent of upstream.bodies) assert.equal(sent?.toString(), 'hello world');
  });

  it('sends a body over the buffer limit once, streaming, and says why it was not retried', async () => {
    const { body, ctx } = bodyContext(70_000);
    const large = await send(ctx, [{ status: 503 }]);
    assert.deepEqual(large.outcome, { status: 503, committed: true });
    assert.equal(large.upstream.bodies[0], undefined, 'not buffered: the forwarder streams ctx.req');
    assert.equal(body.readableFlowing, null, 'the layer never touched the stream');
    const failed = await send(bodyContext(70_000).ctx, [{ flag: 'UC' }]);
    assert.equal(failed.outcome.flag, 'UC');
    assert.match(failed.outcome.detail ?? '', /not retried: body is chunked or over 65536 bytes/);
  });

  it('sends a chunked body (no Content-Length) once, even on connect failure', async () => {
    const { outcome, upstream } = await send(bodyContext(undefined, 'POST').ctx, [{ flag: 'UF' }]);
    assert.equal(outcome.flag, 'UF');
    assert.equal(upstream.endpoints.length, 1);
  });

  it('a client sending more than its Content-Length fails with DPE before any attempt', async () => {
    const { body, ctx } = bodyContext(4);
    body.end('too long');
    const { outcome, upstream } = await send(ctx, []);
    assert.equal(outcome.flag, 'DPE');
    assert.equal(outcome.status, 400);
    assert.equal(upstream.endpoints.length, 0);
  });

  it('a body ending short of its Content-Length fails with DPE', async () => {
    const { body, ctx } = bodyContext(10);
    body.end('short');
    assert.equal((await send(ctx, [])).outcome.flag, 'DPE');
  });

  it('a client error or disconnect while reading fails with DC', async () => {
    const { body, ctx } = bodyContext(10);
    body.write('part');
    setImmediate(() => body.destroy(new Error('socket hang up')));
    const { outcome, upstream } = await send(ctx, []);
    assert.equal(outcome.flag, 'DC');
    assert.match(outcome.detail ?? '', /socket hang up/);
    assert.equal(upstream.endpoints.length, 0);
  });

  it('abandoning the request (deadline) stops the read at once', async () => {
    const { body, ctx } = bodyContext(10);
    body.write('slow');
    setImmediate(() => cancelRequest(ctx, new CancelReason('UT', 'request timeout of 5 ms exceeded')));
    const readiness = await prepareBody(ctx, 1024);
    assert.deepEqual(readiness, { status: 0, committed: false, flag: 'UT', detail: 'request timeout of 5 ms exceeded' });
    assert.equal(ctx.cancelAttempt, undefined);
  });

  it('no retries configured: the body is streamed, never buffered', async () => {
    const { ctx } = bodyContext(5);
    const layer = retryLayer(resolveRetryPolicy({ numRetries: 0, perRetry: { timeout: 1000 } }), new RetryBudget(DEFAULT_BUDGET))!;
    const upstream = scriptedUpstream([{ status: 200 }]);
    await layer(upstream.handler)(ctx);
    assert.equal(ctx.replayBody, undefined);
  });
});
