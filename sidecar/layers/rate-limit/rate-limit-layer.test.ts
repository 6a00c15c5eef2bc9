import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Handler } from '../../pipeline/context.ts';
import { fakeContext } from '../../pipeline/fake-context.ts';
import type { Decision, Limiter, LimiterStats } from './limiter.ts';
import { BACKEND_UNAVAILABLE, rateLimitLayer, type RateLimitCheck } from './rate-limit-layer.ts';
import { limitShape, TokenBuckets } from './token-bucket.ts';

const LOCAL = { name: 'local', quota: 2, windowSeconds: 60 } as const;
const GLOBAL = { name: 'global', quota: 1000, windowSeconds: 3600 } as const;

function counting(): { next: Handler; calls: () => number } {
  let calls = 0;
  return { next: () => (calls++, Promise.resolve({ status: 200, committed: true })), calls: () => calls };
}

/** A global limiter answering scripted decisions, asynchronously like Redis. */
function scripted(decisions: Decision[], stats: LimiterStats = {}): Limiter & { taken: string[] } {
  const taken: string[] = [];
  return {
    taken,
    take: (key) => {
      taken.push(key);
      return Promise.resolve(decisions.shift() ?? { allowed: true, remaining: 9, resetMs: 100, retryAfterMs: 0 });
    },
    stats: () => stats,
    close: () => Promise.resolve(),
  };
}

function localCheck(): RateLimitCheck {
  let t = 0;
  return { policy: LOCAL, key: () => '*', limiter: new TokenBuckets(limitShape({ requests: 2, unit: 'Minute' }), { clock: () => t++ }) };
}

test('over the limit: 429 RL with Retry-After, RateLimit-Policy and RateLimit, and next is never called', async () => {
  const { next, calls } = counting();
  const handler = rateLimitLayer([localCheck()])(next);
  assert.equal((await handler(fakeContext())).status, 200);
  assert.equal((await handler(fakeContext())).status, 200);
  const ctx = fakeContext();
  const outcome = await handler(ctx);
  assert.deepEqual(outcome, { status: 429, committed: true, flag: 'RL' });
  assert.equal(calls(), 2);
  assert.equal(ctx.res.statusCode, 429);
  const headers = ctx.res.getHeaders();
  assert.equal(headers['retry-after'], '30');
  assert.equal(headers['ratelimit-policy'], '"local";q=2;w=60');
  assert.equal(headers['ratelimit'], '"local";r=0;t=30');
  assert.equal(headers['x-outrigger-reason'], 'RL');
  assert.equal(headers['x-request-id'], 'test-request');
  assert.equal(headers['content-length'], Buffer.byteLength('RL: rate limited\n'));
});

test('admitted responses carry no RateLimit fields unless asked', async () => {
  const quiet = fakeContext();
  await rateLimitLayer([localCheck()])(counting().next)(quiet);
  assert.equal(quiet.res.getHeader('ratelimit'), undefined);

  const loud = rateLimitLayer([localCheck(), { policy: GLOBAL, key: () => 'g', limiter: scripted([]) }], { headersOnAllowed: true })(counting().next);
  const ctx = fakeContext();
  await loud(ctx);
  assert.equal(ctx.res.getHeader('ratelimit-policy'), '"local";q=2;w=60, "global";q=1000;w=3600');
  assert.equal(ctx.res.getHeader('ratelimit'), '"local";r=1;t=30, "global";r=9;t=1');
});

test('global refusal: Retry-After from the backend (whole seconds, rounded up), every policy listed', async () => {
  const global = scripted([{ allowed: false, remaining: 0, resetMs: 9_000, retryAfterMs: 1_500 }]);
  const { next, calls } = counting();
  const ctx = fakeContext();
  const outcome = await rateLimitLayer([localCheck(), { policy: GLOBAL, key: () => 'k', limiter: global }])(next)(ctx);
  assert.equal(outcome.status, 429);
  assert.equal(calls(), 0);
  assert.equal(ctx.res.getHeader('retry-after'), '2');
  assert.equal(ctx.res.getHeader('ratelimit-policy'), '"local";q=2;w=60, "global";q=1000;w=3600');
  assert.equal(ctx.res.getHeader('ratelimit'), '"global";r=0;t=2');
});

test('local refuses first: the global backend is not asked', async () => {
  const global = scripted([]);
  const handler = rateLimitLayer([localCheck(), { policy: GLOBAL, key: () => 'k', limiter: global }])(counting().next);
  for (let i = 0; i < 5; i++) await handler(fakeContext());
  assert.equal(global.taken.length, 2);
});

test('backend unavailable: Closed answers 429 with the detail, Open lets the request through', async () => {
  const closed = scripted([{ allowed: false, remaining: 0, resetMs: 1_000, retryAfterMs: 1_000, failureMode: 'Closed' }]);
  const ctx = fakeContext();
  const outcome = await rateLimitLayer([{ policy: GLOBAL, key: () => 'k', limiter: closed }])(counting().next)(ctx);
  assert.deepEqual(outcome, { status: 429, committed: true, flag: 'RL', detail: BACKEND_UNAVAILABLE });
  assert.equal(ctx.res.getHeader('retry-after'), '1');
  assert.equal(ctx.res.getHeader('content-length'), Buffer.byteLength(`RL: rate limited: ${BACKEND_UNAVAILABLE}\n`));

  const open = scripted([{ allowed: true, remaining: 0, resetMs: 0, retryAfterMs: 0, failureMode: 'Open' }]);
  const { next, calls } = counting();
  const admitted = fakeContext();
  assert.equal((await rateLimitLayer([{ policy: GLOBAL, key: () => 'k', limiter: open }], { headersOnAllowed: true })(next)(admitted)).status, 200);
  assert.equal(calls(), 1);
  assert.equal(admitted.res.getHeader('ratelimit'), undefined, 'no made-up quota when the backend did not answer');
});

test('stats: allowed and limited from the layer, backend counters from the limiters', async () => {
  const global = scripted([], { backendErrors: 3, failedOpen: 3, backendOutages: 1, backendRecoveries: 1, backendAvailable: true });
  const layer = rateLimitLayer([localCheck(), { policy: GLOBAL, key: () => 'k', limiter: global }]);
  const handler = layer(counting().next);
  for (let i = 0; i < 5; i++) await handler(fakeContext());
  assert.deepEqual(layer.stats(), {
    allowed: 2,
    limited: 3,
    backendErrors: 3,
    failedOpen: 3,
    failedClosed: 0,
    backendOutages: 1,
    backendRecoveries: 1,
    backendAvailable: true,
    localKeys: 1,
  });
});
