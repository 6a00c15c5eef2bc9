import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { startRedis, type TestRedis } from '../../../test/support/redis.ts';
import type { Logger } from '../../log.ts';
import type { Handler } from '../../pipeline/context.ts';
import { fakeContext } from '../../pipeline/fake-context.ts';
import { createRateLimit, resolveRateLimits, type RateLimitRuntime, type RateLimitSpec } from './rate-limit-runtime.ts';
import { RedisLimiter } from './redis-limiter.ts';
import { limitShape } from './token-bucket.ts';

// Real redis-server processes of our own; startRedis fails (never skips) when redis-server is not installed.
let redis: TestRedis;
const runtimes: RateLimitRuntime[] = [];
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await Promise.all(runtimes.map((r) => r.close()));
  await redis?.stop();
});

function recorder(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const push = (message: string): void => void lines.push(message);
  return { lines, logger: { debug: push, info: push, warn: push, error: push } };
}

/** A sidecar's view of `service`'s global limit of `requests` per second, keyed by `x-tenant`. */
function sidecar(service: string, requests: number, failureMode: 'Open' | 'Closed', logger: Logger, options: { url?: string; timeoutMs?: number } = {}): RateLimitRuntime {
  const spec: RateLimitSpec = {
    direction: 'Inbound',
    headers: 'OnLimited',
    global: {
      requests,
      unit: 'Second',
      key: { type: 'Header', header: 'x-tenant' },
      redis: { url: options.url ?? redis.url, timeout: options.timeoutMs ?? 50 },
      failureMode,
    },
  };
  const runtime = createRateLimit(resolveRateLimits(spec, 'inbound')!, { name: service, namespace: 'test' }, { logger, reconnectMaxMs: 100 });
  runtimes.push(runtime);
  return runtime;
}

interface Result {
  status: number;
  ms: number;
  retryAfter: unknown;
  detail: string | undefined;
}

const ok: Handler = () => Promise.resolve({ status: 200, committed: true });

/** Fires `n` requests at once, alternating between the sidecars; each result with how long it took. */
async function fire(n: number, sidecars: RateLimitRuntime[], tenant = 'acme'): Promise<Result[]> {
  const started = performance.now();
  return Promise.all(
    Array.from({ length: n }, (_, i) => {
      const ctx = fakeContext({ headers: { 'x-tenant': tenant } });
      return (sidecars[i % sidecars.length] as RateLimitRuntime).layer(ok)(ctx).then((outcome) => ({
        status: outcome.status,
        ms: performance.now() - started,
        retryAfter: ctx.res.getHeader('retry-after'),
        detail: outcome.detail,
      }));
    }),
  );
}

/**
 * 10 admitted and 20 refused, all answered within 200 ms. A token refills every 100 ms, so a batch that took longer
 * than that (only on an overloaded machine; it takes a few ms) may rightly admit one more per 100 ms.
 */
function assertShared(results: Result[]): void {
  const admitted = count(results, 200);
  const refilled = Math.floor(slowest(results) / 100);
  assert.ok(admitted >= 10 && admitted <= 10 + refilled, `${admitted} admitted in ${slowest(results).toFixed(1)} ms`);
  assert.equal(count(results, 429), 30 - admitted);
  assert.ok(slowest(results) < 200, `slowest answer took ${slowest(results).toFixed(1)} ms`);
  assert.ok(results.filter((r) => r.status === 429).every((r) => r.retryAfter === '1' && r.detail === undefined), 'refused by the limit, not by a timeout');
}

const count = (results: { status: number }[], status: number): number => results.filter((r) => r.status === status).length;
const slowest = (results: { ms: number }[]): number => Math.max(...results.map((r) => r.ms));

test('two sidecars share one limit of 10/s: 30 concurrent requests → exactly 10 admitted, 20 refused, none delayed', async () => {
  const log = recorder();
  // a generous timeout: this test is about the shared count, a loaded CI machine must not turn it into timeouts
  const a = sidecar('shared', 10, 'Closed', log.logger, { timeoutMs: 150 });
  const b = sidecar('shared', 10, 'Closed', log.logger, { timeoutMs: 150 });
  assert.ok(await a.whenReady(2_000));
  assert.ok(await b.whenReady(2_000));
  await fire(20, [a, b], 'warm-up'); // loads the script on both connections and warms the code path, in another bucket

  const first = await fire(30, [a, b]);
  assertShared(first);
  assert.equal(count(await fire(2, [a, b], 'globex'), 200), 2, 'another tenant has its own bucket');

  await sleep(1_050); // the bucket is full again after 10 × 100 ms
  assertShared(await fire(30, [b, a]));
  assert.equal(a.stats().allowed + b.stats().allowed + a.stats().limited + b.stats().limited, 20 + 30 + 2 + 30);
  assert.deepEqual(log.lines, []);
});

test('the Lua script counts like the local bucket: remaining, Retry-After and reset', async () => {
  const limiter = new RedisLimiter({
    url: redis.url,
    shape: limitShape({ requests: 10, unit: 'Second', burst: 5 }),
    keyPrefix: 'outrigger:rl:test/sequence:',
    failureMode: 'Closed',
    logger: recorder().logger,
    timeoutMs: 1_000,
  });
  try {
    assert.ok(await limiter.whenReady(2_000));
    const decisions = [];
    for (let i = 0; i < 6; i++) decisions.push(await limiter.take('k'));
    assert.deepEqual(decisions.slice(0, 5).map((d) => [d.allowed, d.remaining]), [[true, 4], [true, 3], [true, 2], [true, 1], [true, 0]]);
    const refused = decisions[5]!;
    assert.equal(refused.allowed, false);
    assert.ok(refused.retryAfterMs >= 1 && refused.retryAfterMs <= 100, `retry after ${refused.retryAfterMs} ms`);
    assert.ok(refused.resetMs > 400 && refused.resetMs <= 500, `reset in ${refused.resetMs} ms`);
    assert.equal(refused.failureMode, undefined);
  } finally {
    await limiter.close();
  }
});

test('a stalled Redis costs each request at most the timeout; then failureMode decides', async () => {
  const log = recorder();
  const open = sidecar('stalled-open', 1_000, 'Open', log.logger);
  const closed = sidecar('stalled-closed', 1_000, 'Closed', log.logger);
  assert.ok(await open.whenReady(2_000));
  assert.ok(await closed.whenReady(2_000));

  redis.pause();
  const once = await fire(2, [open, closed]).finally(() => redis.resume());
  assert.deepEqual(once.map((r) => r.status), [200, 429]);
  await waitFor(async () => count(await fire(2, [open, closed]), 200) === 2);
  assert.deepEqual(log.lines, [], 'one slow reply is not an outage');

  redis.pause();
  const results = await fire(10, [open, closed]).finally(() => redis.resume());
  assert.equal(count(results, 200), 5, 'Open admits');
  assert.ok(results.filter((r) => r.status === 429).every((r) => r.detail === 'rate limit backend unavailable'), 'Closed refuses');
  assert.ok(slowest(results) < 250, `slowest answer took ${slowest(results).toFixed(1)} ms (timeout 50 ms)`);
  assert.equal(open.stats().failedOpen, 6);
  assert.equal(closed.stats().failedClosed, 6);
  assert.equal(log.lines.filter((l) => l === 'rate limit backend unavailable').length, 2, 'five in a row are');
  await waitFor(async () => count(await fire(2, [open, closed]), 200) === 2);
  assert.equal(log.lines.filter((l) => l === 'rate limit backend available again').length, 2);
});

test('Redis killed: Open admits and Closed refuses at once, logged once each; restarted: both recover', async () => {
  const log = recorder();
  const open = sidecar('outage-open', 1_000, 'Open', log.logger, { timeoutMs: 200 });
  const closed = sidecar('outage-closed', 1_000, 'Closed', log.logger, { timeoutMs: 200 });
  assert.ok(await open.whenReady(2_000));
  assert.ok(await closed.whenReady(2_000));
  assert.equal(count(await fire(4, [open, closed]), 200), 4);

  await redis.kill();
  for (let round = 0; round < 3; round++) {
    const results = await fire(4, [open, closed]);
    assert.deepEqual(results.map((r) => r.status), [200, 429, 200, 429]);
    assert.ok(slowest(results) < 100, `slowest answer took ${slowest(results).toFixed(1)} ms (no waiting for the timeout)`);
  }
  const down = log.lines.filter((l) => l === 'rate limit backend unavailable');
  assert.equal(down.length, 2, `one line per sidecar: ${JSON.stringify(log.lines)}`);
  assert.equal(open.stats().backendAvailable, false);
  assert.ok(open.stats().backendErrors >= 6);
  assert.equal(open.stats().backendOutages, 1);

  await redis.restart();
  await waitFor(async () => count(await fire(1, [closed]), 200) === 1 && open.stats().backendAvailable === true);
  assert.equal(log.lines.filter((l) => l === 'rate limit backend available again').length, 2);
  assert.equal(closed.stats().backendRecoveries, 1);
  assert.equal(closed.stats().backendAvailable, true);
});

test('Redis unreachable from the start: the first requests are answered within the timeout', async () => {
  const log = recorder();
  const nowhere = sidecar('nowhere', 10, 'Closed', log.logger, { url: 'redis://127.0.0.1:1' });
  const results = await fire(3, [nowhere]);
  assert.equal(count(results, 429), 3);
  assert.ok(slowest(results) < 250, `slowest answer took ${slowest(results).toFixed(1)} ms`);
  assert.equal(log.lines.filter((l) => l === 'rate limit backend unavailable').length, 1);
});

/** Polls `check` every 50 ms for up to 5 s. */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (!(await check())) {
    if (performance.now() > deadline) assert.fail('not recovered within 5 s');
    await sleep(50);
  }
}
