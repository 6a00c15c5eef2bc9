import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fakeContext } from '../../pipeline/fake-context.ts';
import type { Handler } from '../../pipeline/context.ts';
import { faultInjection } from './fault-injection.ts';

const ok: Handler = () => Promise.resolve({ status: 200, committed: true });
const noSleep = () => Promise.resolve();

test('abort at 100 % answers with the status and never calls upstream', async () => {
  let called = 0;
  const layer = faultInjection({ abort: { httpStatus: 503, percentage: 100 } })!;
  const outcome = await layer(() => (called++, ok(fakeContext())))(fakeContext());
  assert.deepEqual(outcome, { status: 503, committed: true, flag: 'FI' });
  assert.equal(called, 0);
});

test('percentages select the expected share (seeded)', async () => {
  let seed = 1;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const layer = faultInjection({ abort: { httpStatus: 500, percentage: 25 } }, { random })!;
  let aborted = 0;
  for (let i = 0; i < 4000; i++) if ((await layer(ok)(fakeContext())).flag === 'FI') aborted++;
  assert.ok(aborted > 880 && aborted < 1120, `${aborted} of 4000`);
});

test('delay waits the fixed delay, marks DI, then forwards', async () => {
  const waits: number[] = [];
  const layer = faultInjection({ delay: { fixedDelay: 1500, percentage: 100 } }, { sleep: (ms) => (waits.push(ms), Promise.resolve()) })!;
  const ctx = fakeContext();
  const outcome = await layer(ok)(ctx);
  assert.equal(outcome.status, 200);
  assert.deepEqual(waits, [1500]);
  assert.equal(ctx.flag, 'DI');
});

test('header selectors aim faults only at matching requests', async () => {
  const layer = faultInjection({ abort: { httpStatus: 418, percentage: 100 }, headers: [{ name: 'X-Chaos', value: 'on' }] }, { sleep: noSleep })!;
  assert.equal((await layer(ok)(fakeContext({ headers: { 'x-chaos': 'on' } }))).status, 418);
  assert.equal((await layer(ok)(fakeContext({ headers: { 'x-chaos': 'off' } }))).status, 200);
  assert.equal((await layer(ok)(fakeContext())).status, 200);
});

test('no fault configured adds no layer', () => {
  assert.equal(faultInjection(undefined), undefined);
  assert.equal(faultInjection({}), undefined);
});
