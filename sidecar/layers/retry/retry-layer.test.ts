import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CancelReason, cancelRequest, type Outcome, type RequestContext } from '../../pipeline/context.ts';
import { RetryBudget } from './budget.ts';
import { DEFAULT_BUDGET, resolveRetryPolicy, type RetryPolicy } from './policy.ts';
import { retryLayer, type RetryDeps, type RetryInfo } from './retry-layer.ts';
import { endlessSleep, ManualClock, retryContext, scriptedUpstream, type Step } from './test-support.ts';

interface Run {
  outcome: Outcome;
  ctx: RequestContext;
  upstream: ReturnType<typeof scriptedUpstream>;
  retries: RetryInfo[];
  clock: ManualClock;
  budget: RetryBudget;
}

async function run(
  steps: Step[],
  options: { policy?: RetryPolicy; ctx?: RequestContext; budget?: RetryBudget; deps?: RetryDeps; clock?: ManualClock } = {},
): Promise<Run> {
  const clock = options.clock ?? new ManualClock();
  const budget = options.budget ?? new RetryBudget(DEFAULT_BUDGET, clock.now);
  const retries: RetryInfo[] = [];
  const deps: RetryDeps = { now: clock.now, sleep: clock.sleep, random: () => 0.5, onRetry: (_ctx, info) => retries.push(info), ...options.deps };
  const layer = retryLayer(options.policy ?? resolveRetryPolicy(), budget, deps);
  assert.ok(layer);
  const upstream = scriptedUpstream(steps);
  const ctx = options.ctx ?? retryContext();
  const outcome = await layer(upstream.handler)(ctx);
  return { outcome, ctx, upstream, retries, clock, budget };
}

describe('retryLayer: what is retried', () => {
  it('retries a 503 on another endpoint, dropping the failed response', async () => {
    const { outcome, ctx, upstream, retries } = await run([{ status: 503 }, { status: 200 }]);
    assert.deepEqual(outcome, { status: 200, committed: true });
    assert.deepEqual(upstream.dropped, [503]);
    assert.equal(ctx.attempts, 2);
    assert.notEqual(upstream.endpoints[0], upstream.endpoints[1]);
    assert.deepEqual([...(ctx.triedEndpoints ?? [])], [upstream.endpoints[0]]);
    assert.deepEqual(retries, [{ attempt: 2, reason: 503, waitMs: 12 }]);
  });

  it('retries connect failures', async () => {
    const { outcome, retries } = await run([{ flag: 'UF' }, { flag: 'UCT' }, { status: 200 }]);
    assert.equal(outcome.status, 200);
    assert.deepEqual(
      retries.map((r) => [r.attempt, r.reason, r.waitMs]),
      [[2, 'UF', 12], [3, 'UCT', 37]],
    );
  });

  it('does not retry a 500 by default', async () => {
    const { outcome, upstream } = await run([{ status: 500 }, { status: 200 }]);
    assert.deepEqual(outcome, { status: 500, committed: true });
    assert.equal(upstream.endpoints.length, 1);
  });

  it('retries a 500 when the route lists it', async () => {
    const { outcome } = await run([{ status: 500 }], { policy: resolveRetryPolicy(undefined, { codes: [500] }) });
    assert.equal(outcome.status, 200);
  });

  it('does not retry failures the sidecar made itself (no healthy endpoint, overflow)', async () => {
    for (const flag of ['UH', 'UO'] as const) {
      const { outcome, upstream } = await run([{ flag }]);
      assert.equal(outcome.flag, flag);
      assert.equal(upstream.endpoints.length, 1);
    }
  });

  it('POST is retried only on connect failure', async () => {
    const post = () => retryContext({ method: 'POST' });
    assert.equal((await run([{ status: 503 }], { ctx: post() })).outcome.status, 503);
    assert.equal((await run([{ flag: 'UC' }], { ctx: post() })).outcome.flag, 'UC');
    assert.equal((await run([{ flag: 'UT' }], { ctx: post() })).outcome.flag, 'UT');
    assert.equal((await run([{ flag: 'UF' }], { ctx: post() })).outcome.status, 200);
    assert.equal((await run([{ flag: 'UC', detail: 'Stream closed with error code NGHTTP2_REFUSED_STREAM' }], { ctx: post() })).outcome.status, 200);
  });

  it('POST with an Idempotency-Key is retried like GET', async () => {
    const ctx = retryContext({ method: 'POST', headers: { 'idempotency-key': 'abc' } });
    const { outcome, upstream } = await run([{ status: 503 }, { flag: 'UC' }], { ctx });
    assert.equal(outcome.status, 200);
    assert.equal(upstream.endpoints.length, 3);
  });

  it('never retries once the response is committed', async () => {
    const budget = new RetryBudget(DEFAULT_BUDGET);
    let calls = 0;
    const layer = retryLayer(resolveRetryPolicy(), budget)!;
    const cut: Outcome = { status: 200, committed: true, flag: 'UC', detail: 'upstream reset mid-body' };
    const outcome = await layer(() => (calls++, Promise.resolve(cut)))(retryContext());
    assert.deepEqual(outcome, cut);
    assert.equal(calls, 1);
  });
});

describe('retryLayer: limits', () => {
  it('declares a response retryable only while a retry will follow: the last attempt commits', async () => {
    const { outcome, upstream, ctx } = await run([{ status: 503 }, { status: 503 }, { status: 503 }, { status: 200 }]);
    assert.deepEqual(outcome, { status: 503, committed: true });
    assert.deepEqual(upstream.dropped, [503, 503]);
    assert.equal(upstream.endpoints.length, 3);
    assert.equal(ctx.retryableResponse, undefined, 'the hook is removed afterwards');
  });

  it('failures without a response, retried to the limit, keep their flag and say how many attempts were made', async () => {
    const { outcome, ctx } = await run([{ flag: 'UF' }, { flag: 'UC' }, { flag: 'UF', detail: 'connect ECONNREFUSED' }]);
    assert.deepEqual(outcome, { status: 0, committed: false, flag: 'UF', detail: 'after 3 attempts: connect ECONNREFUSED' });
    assert.equal(ctx.triedEndpoints?.size, 2);
    assert.equal(new Set([...ctx.triedEndpoints!, ctx.endpoint]).size, 3, 'every attempt went to a new endpoint');
  });

  it('an exhausted budget stops retries, says so and counts it; the flag stays the failure', async () => {
    const clock = new ManualClock();
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 0.1, windowMs: 10_000 }, clock.now); // 1 retry per window
    const first = await run([{ flag: 'UF' }], { budget, clock });
    assert.equal(first.outcome.status, 200);
    const second = await run([{ flag: 'UF', detail: 'connect ECONNREFUSED' }], { budget, clock });
    assert.deepEqual(second.outcome, { status: 0, committed: false, flag: 'UF', detail: 'retry budget exhausted; connect ECONNREFUSED' });
    const third = await run([{ status: 503 }], { budget, clock });
    assert.deepEqual(third.outcome, { status: 503, committed: true, detail: 'retry budget exhausted' });
    assert.deepEqual(third.upstream.dropped, [], 'a response the budget will not retry is sent');
    assert.equal(budget.retries, 1);
    assert.equal(budget.budgetExhausted, 2);
  });

  it('skips a retry whose wait would pass the deadline', async () => {
    const policy = resolveRetryPolicy(undefined, { backoff: 100 }); // first wait: 0.5 × 100 = 50 ms
    const late = await run([{ status: 503 }], { policy, ctx: retryContext({ deadlineAt: 40 }) });
    assert.deepEqual(late.outcome, { status: 503, committed: true });
    const failed = await run([{ flag: 'UF' }], { policy, ctx: retryContext({ deadlineAt: 40 }) });
    assert.equal(failed.outcome.flag, 'UF');
    assert.match(failed.outcome.detail ?? '', /request deadline/);
    assert.equal(failed.budget.retries, 0, 'a retry denied by the deadline does not use the budget');
    const inTime = await run([{ status: 503 }], { policy, ctx: retryContext({ deadlineAt: 60 }) });
    assert.equal(inTime.outcome.status, 200);
  });

  it("waits the upstream's Retry-After, unless it passes the deadline", async () => {
    const honoured = await run([{ status: 503, retryAfter: '2' }]);
    assert.deepEqual(honoured.clock.sleeps, [2000]);
    assert.equal(honoured.outcome.status, 200);
    const tooLate = await run([{ status: 503, retryAfter: '5' }], { ctx: retryContext({ deadlineAt: 1000 }) });
    assert.deepEqual(tooLate.outcome, { status: 503, committed: true });
  });

  it('backs off with growing jitter ceilings', async () => {
    const policy = resolveRetryPolicy({ numRetries: 4 });
    const { clock } = await run([{ flag: 'UF' }, { flag: 'UF' }, { flag: 'UF' }, { flag: 'UF' }], { policy });
    assert.deepEqual(clock.sleeps, [12, 37, 87, 187]);
  });
});

describe('retryLayer: cancellation and per-try timeout', () => {
  it('stops when the request is abandoned during the backoff', async () => {
    const ctx = retryContext();
    const sleep = endlessSleep(() => cancelRequest(ctx, new CancelReason('DC', 'client disconnected')));
    const { outcome, upstream } = await run([{ status: 503 }], { ctx, deps: { sleep } });
    assert.deepEqual(outcome, { status: 503, committed: false, flag: 'DC', detail: 'client disconnected' });
    assert.equal(upstream.endpoints.length, 1);
    assert.equal(ctx.cancelAttempt, undefined);
  });

  it('stops even with a sleep that ignores the abort signal', async () => {
    const ctx = retryContext();
    const sleep = () => {
      queueMicrotask(() => cancelRequest(ctx, new CancelReason('UT', 'request timeout of 100 ms exceeded')));
      return new Promise<void>(() => {});
    };
    const { outcome } = await run([{ flag: 'UF' }], { ctx, deps: { sleep } });
    assert.equal(outcome.flag, 'UT');
  });

  it('a per-try timeout aborts only the attempt, which is retried (gateway-error covers timeouts)', async () => {
    const timers: { fire: () => void; ms: number; cleared: boolean }[] = [];
    const setTimer = (fire: () => void, ms: number) => {
      const timer = { fire, ms, cleared: false };
      timers.push(timer);
      return () => void (timer.cleared = true);
    };
    const policy = resolveRetryPolicy({ perRetry: { timeout: 300 } });
    const ctx = retryContext();
    const pending = run([{ hang: true }, { status: 200 }], { policy, ctx, deps: { setTimer } });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(timers.length, 1);
    timers[0]!.fire();
    const { outcome, retries } = await pending;
    assert.deepEqual(outcome, { status: 200, committed: true });
    assert.deepEqual(retries.map((r) => r.reason), ['UT']);
    assert.equal(ctx.cancelled, undefined, 'the request itself goes on');
    assert.equal(timers.length, 2);
    assert.equal(timers[1]!.cleared, true, 'the timer stops when the response starts');
  });

  it('a per-try timeout is not retried under reset alone, and a layer with no retries still enforces it', async () => {
    const fireAtOnce = (fire: () => void) => (setImmediate(fire), () => {});
    const reset = resolveRetryPolicy({ retryOn: { triggers: ['reset'] }, perRetry: { timeout: 50 } });
    const a = await run([{ hang: true }], { policy: reset, deps: { setTimer: fireAtOnce } });
    assert.equal(a.outcome.flag, 'UT');
    assert.equal(a.upstream.endpoints.length, 1);
    const noRetries = resolveRetryPolicy({ numRetries: 0, perRetry: { timeout: 50 } });
    const b = await run([{ hang: true }], { policy: noRetries, deps: { setTimer: fireAtOnce } });
    assert.deepEqual(b.outcome, { status: 0, committed: false, flag: 'UT', detail: 'per-try timeout of 50 ms exceeded' });
  });

  it('adds no layer when retries are off and there is no per-try timeout', () => {
    assert.equal(retryLayer(resolveRetryPolicy({ numRetries: 0 }), new RetryBudget(DEFAULT_BUDGET)), undefined);
    assert.equal(retryLayer(resolveRetryPolicy(undefined, { attempts: 0 }), new RetryBudget(DEFAULT_BUDGET)), undefined);
  });
});
