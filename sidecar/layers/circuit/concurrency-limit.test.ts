import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeContext } from '../../pipeline/fake-context.ts';
import type { Handler, Outcome, RequestContext } from '../../pipeline/context.ts';
import { ConcurrencyLimiter, concurrencyLimit, isRetryPass, poolSizePerEndpoint } from './concurrency-limit.ts';
import type { ConcurrencyLimits } from './resolve.ts';

/** A `next` whose passes finish only when the test says so. */
function heldNext(): { next: Handler; calls: number; finish(outcome?: Outcome): void; fail(error: Error): void } {
  const waiting: PromiseWithResolvers<Outcome>[] = [];
  const harness = {
    calls: 0,
    next: (_ctx: RequestContext): Promise<Outcome> => {
      harness.calls++;
      const held = Promise.withResolvers<Outcome>();
      waiting.push(held);
      return held.promise;
    },
    finish(outcome: Outcome = { status: 200, committed: true }): void {
      waiting.shift()?.resolve(outcome);
    },
    fail(error: Error): void {
      waiting.shift()?.reject(error);
    },
  };
  return harness;
}

const limits = (overrides: Partial<ConcurrencyLimits>): ConcurrencyLimits => ({
  maxConnections: 1024,
  maxPendingRequests: 1024,
  maxParallelRequests: 1024,
  maxParallelRetries: 3,
  ...overrides,
});

function attempt(n: number): RequestContext {
  const ctx = fakeContext();
  ctx.attempts = n;
  return ctx;
}

test('max parallel requests: the (n+1)th in-flight request gets 503 UO without reaching next', async () => {
  const limiter = new ConcurrencyLimiter('svc.default', limits({ maxParallelRequests: 2 }));
  const held = heldNext();
  const handler = concurrencyLimit(limiter)(held.next);
  const first = handler(attempt(0));
  const second = handler(attempt(0));
  const refused = await handler(attempt(0));
  assert.deepEqual(refused, { status: 503, committed: false, flag: 'UO', detail: 'max parallel requests (2) reached for Service svc.default' });
  assert.equal(held.calls, 2);
  assert.equal(limiter.state().overflows.requests, 1);
  held.finish();
  await first;
  const third = handler(attempt(0));
  assert.equal(held.calls, 3, 'a finished request frees its slot at once');
  held.finish();
  held.finish();
  await Promise.all([second, third]);
  assert.equal(limiter.state().inFlight, 0);
});

test('pending = in flight beyond maxConnections; refused when it would exceed maxPendingRequests', async () => {
  const limiter = new ConcurrencyLimiter('svc.default', limits({ maxConnections: 2, maxPendingRequests: 1 }));
  const held = heldNext();
  const handler = concurrencyLimit(limiter)(held.next);
  const passes = [handler(attempt(0)), handler(attempt(0)), handler(attempt(0))];
  assert.equal(limiter.state().pending, 1);
  const refused = await handler(attempt(0));
  assert.equal(refused.flag, 'UO');
  assert.match(refused.detail ?? '', /max pending requests \(1 beyond 2 connections\)/);
  assert.deepEqual(limiter.state().overflows, { requests: 0, pending: 1, retries: 0 });
  for (let i = 0; i < 3; i++) held.finish();
  await Promise.all(passes);
  assert.deepEqual({ inFlight: limiter.state().inFlight, pending: limiter.state().pending }, { inFlight: 0, pending: 0 });
});

test('maxPendingRequests 0 caps in-flight requests at maxConnections', async () => {
  const limiter = new ConcurrencyLimiter('svc.default', limits({ maxConnections: 1, maxPendingRequests: 0 }));
  const held = heldNext();
  const handler = concurrencyLimit(limiter)(held.next);
  const first = handler(attempt(0));
  assert.equal((await handler(attempt(0))).flag, 'UO');
  held.finish();
  await first;
});

test('retry limit counts only retry passes (ctx.attempts > 0: an attempt already went out)', async () => {
  const limiter = new ConcurrencyLimiter('svc.default', limits({ maxParallelRetries: 1 }));
  const held = heldNext();
  const handler = concurrencyLimit(limiter)(held.next);
  const firsts = [handler(attempt(0)), handler(attempt(0)), handler(attempt(0))];
  const retry = handler(attempt(1));
  assert.deepEqual({ inFlight: limiter.state().inFlight, retries: limiter.state().retriesInFlight }, { inFlight: 4, retries: 1 });
  const refused = await handler(attempt(2));
  assert.equal(refused.detail, 'max parallel retries (1) reached for Service svc.default');
  assert.equal((await Promise.race([handler(attempt(0)), Promise.resolve('admitted')])), 'admitted', 'first attempts are not held back by the retry limit');
  for (let i = 0; i < 5; i++) held.finish();
  await Promise.all([...firsts, retry]);
  assert.deepEqual(limiter.state().overflows, { requests: 0, pending: 0, retries: 1 });
  assert.equal(limiter.state().retriesInFlight, 0);
});

test('the retry limit of 0 refuses every retry pass', async () => {
  const limiter = new ConcurrencyLimiter('svc.default', limits({ maxParallelRetries: 0 }));
  const handler = concurrencyLimit(limiter)(() => Promise.resolve({ status: 200, committed: true }));
  assert.equal((await handler(attempt(1))).flag, 'UO');
  assert.equal((await handler(attempt(0))).status, 200);
});

test('isRetryPass reads ctx.attempts: only 0 is a first attempt', () => {
  assert.deepEqual([0, 1, 2, 3].map((n) => isRetryPass(attempt(n))), [false, true, true, true]);
});

test('a pass that rejects or throws releases its slot', async () => {
  const limiter = new ConcurrencyLimiter('svc.default', limits({ maxParallelRequests: 1 }));
  const held = heldNext();
  const handler = concurrencyLimit(limiter)(held.next);
  const pass = handler(attempt(2));
  held.fail(new Error('boom'));
  await assert.rejects(pass, /boom/);
  assert.deepEqual({ inFlight: limiter.state().inFlight, retries: limiter.state().retriesInFlight }, { inFlight: 0, retries: 0 });
  const throwing = concurrencyLimit(limiter)(() => {
    throw new Error('sync');
  });
  assert.throws(() => throwing(attempt(1)), /sync/);
  assert.equal(limiter.state().inFlight, 0);
});

test('update() changes limits while in-flight counts carry on', async () => {
  const limiter = new ConcurrencyLimiter('svc.default', limits({ maxParallelRequests: 5 }));
  const held = heldNext();
  const handler = concurrencyLimit(limiter)(held.next);
  const passes = [handler(attempt(0)), handler(attempt(0))];
  limiter.update(limits({ maxParallelRequests: 2 }));
  assert.equal((await handler(attempt(0))).flag, 'UO');
  held.finish();
  held.finish();
  await Promise.all(passes);
  assert.equal(limiter.state().limits.maxParallelRequests, 2);
});

test('poolSizePerEndpoint splits maxConnections across endpoints, rounding up', () => {
  assert.equal(poolSizePerEndpoint(1024, 3), 342);
  assert.equal(poolSizePerEndpoint(1024, 1), 1024);
  assert.equal(poolSizePerEndpoint(10, 4), 3);
  assert.equal(poolSizePerEndpoint(2, 5), 1, 'never below one connection');
  assert.equal(poolSizePerEndpoint(1024, 0), 1024, 'no endpoints yet: treated as one');
  assert.equal(poolSizePerEndpoint(1024, 2, 128), 128, 'the Mesh per-endpoint cap still applies');
});
