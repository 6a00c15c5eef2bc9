import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fakeContext } from '../../pipeline/fake-context.ts';
import type { Handler, Outcome } from '../../pipeline/context.ts';
import { fallback } from './fallback.ts';

const failing = (outcome: Outcome): Handler => () => Promise.resolve(outcome);

test('a static fallback answers when no endpoint could serve, keeping the reason flag', async () => {
  const layer = fallback({ response: { status: 200, body: '{"items":[]}', headers: [{ name: 'content-type', value: 'application/json' }] } }, undefined)!;
  const ctx = fakeContext();
  const outcome = await layer(failing({ status: 503, committed: false, flag: 'UH' }))(ctx);
  assert.equal(outcome.status, 200);
  assert.equal(outcome.flag, 'UH');
  assert.equal(ctx.res.statusCode, 200);
  assert.equal(ctx.res.getHeader('x-outrigger-fallback'), 'response');
  assert.equal(ctx.res.getHeader('x-outrigger-reason'), 'UH');
  assert.equal(ctx.res.getHeader('content-type'), 'application/json');
});

test('another Service serves when the first has none healthy', async () => {
  let usedOther = 0;
  const other: Handler = () => (usedOther++, Promise.resolve({ status: 200, committed: true }));
  const layer = fallback({ backendRef: { group: '', kind: 'Service', name: 'backup' } }, other)!;
  const outcome = await layer(failing({ status: 503, committed: false, flag: 'CO' }))(fakeContext());
  assert.equal(usedOther, 1);
  assert.equal(outcome.status, 200);
  assert.equal(outcome.flag, 'CO');
});

test('other failures and successes pass through untouched', async () => {
  const layer = fallback({ response: { status: 200 } }, undefined)!;
  for (const outcome of [
    { status: 504, committed: false, flag: 'UT' as const },
    { status: 500, committed: true },
    { status: 200, committed: true },
  ]) {
    assert.deepEqual(await layer(failing(outcome))(fakeContext()), outcome);
  }
});
