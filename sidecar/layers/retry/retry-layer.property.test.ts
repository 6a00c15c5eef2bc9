import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import type { ReasonFlag } from '../../http/reason.ts';
import { RetryBudget } from './budget.ts';
import { resolveRetryPolicy } from './policy.ts';
import { retryLayer } from './retry-layer.ts';
import { ManualClock, retryContext, scriptedUpstream, seededRandom, type Step } from './test-support.ts';

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constantFrom(200, 404, 500, 502, 503, 504).map((status) => ({ status })),
  fc.record({ status: fc.constant(503), retryAfter: fc.constantFrom('0', '1', '30') }),
  fc.constantFrom<ReasonFlag>('UF', 'UCT', 'UC', 'UPE', 'UT', 'UH', 'UO').map((flag) => ({ flag })),
);

const request = fc.record({
  method: fc.constantFrom('GET', 'PUT', 'POST'),
  idempotencyKey: fc.boolean(),
  steps: fc.array(step, { maxLength: 8 }),
  gapMs: fc.integer({ min: 0, max: 4000 }),
  deadlineMs: fc.option(fc.integer({ min: 1, max: 2000 }), { nil: undefined }),
});

const scenario = fc.record({
  numRetries: fc.integer({ min: 0, max: 5 }),
  triggers: fc.subarray(['5xx', 'gateway-error', 'connect-failure', 'reset', 'refused-stream'] as const),
  percent: fc.integer({ min: 0, max: 100 }),
  minRetriesPerSecond: fc.integer({ min: 0, max: 2 }),
  windowMs: fc.integer({ min: 1000, max: 20_000 }),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  requests: fc.array(request, { minLength: 1, maxLength: 60 }),
});

it('attempts never exceed numRetries + 1, nor retries what the budget allows in its window', async () => {
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const policy = resolveRetryPolicy({
        numRetries: s.numRetries,
        retryOn: { triggers: s.triggers },
        budget: { percent: s.percent, minRetriesPerSecond: s.minRetriesPerSecond, window: s.windowMs },
      });
      const clock = new ManualClock();
      const budget = new RetryBudget(policy.budget, clock.now);
      // An independent model of the budget: event times, bucketed as the budget does (10 buckets per window).
      const bucketMs = policy.budget.windowMs / 10;
      const requestTimes: number[] = [];
      const retryTimes: number[] = [];
      const inWindow = (times: number[], now: number) => times.filter((t) => Math.floor(t / bucketMs) > Math.floor(now / bucketMs) - 10).length;
      const layer = retryLayer(policy, budget, {
        now: clock.now,
        sleep: clock.sleep,
        random: seededRandom(s.seed),
        onRetry: () => {
          const allowance = Math.max(policy.budget.minRetriesPerSecond * (policy.budget.windowMs / 1000), policy.budget.ratio * inWindow(requestTimes, clock.time));
          assert.ok(inWindow(retryTimes, clock.time) < allowance, 'retry granted beyond the budget');
          retryTimes.push(clock.time);
        },
      });
      for (const r of s.requests) {
        clock.time += r.gapMs;
        const headers = r.idempotencyKey ? { 'idempotency-key': 'k' } : {};
        const ctx = retryContext({ method: r.method, headers, ...(r.deadlineMs ? { deadlineAt: clock.time + r.deadlineMs } : {}) });
        const upstream = scriptedUpstream(r.steps);
        requestTimes.push(clock.time);
        const outcome = layer ? await layer(upstream.handler)(ctx) : await upstream.handler(ctx);
        assert.ok(upstream.endpoints.length <= policy.numRetries + 1, `${upstream.endpoints.length} attempts`);
        assert.ok(upstream.dropped.length < Math.max(1, upstream.endpoints.length), 'a dropped response is always followed by a retry');
        assert.ok(outcome.committed || outcome.flag !== undefined, 'an unsent outcome always carries a flag');
        if (ctx.deadlineAt !== undefined) assert.ok(clock.time < ctx.deadlineAt || upstream.endpoints.length === 1, 'no retry past the deadline');
      }
      assert.equal(budget.retries, retryTimes.length);
    }),
    { numRuns: 300 },
  );
});
