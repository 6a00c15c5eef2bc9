import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Endpoint } from '../endpoints/endpoint.ts';
import { fakeContext } from '../pipeline/fake-context.ts';
import { forwardTo } from './forward.ts';
import { Pool } from './undici-pool.ts';

test('an attempt on a pool already closed settles as a failure and releases the endpoint', async () => {
  const pool = new Pool('http://127.0.0.1:9');
  await pool.close();
  const endpoint = new Endpoint({ address: '127.0.0.1:9' });
  const ctx = fakeContext();
  ctx.endpoint = endpoint;
  const outcome = await forwardTo(() => ({ pool, trailerCapable: () => pool, headersTimeoutMs: 1_000, bodyTimeoutMs: 1_000 }))(ctx);
  assert.equal(outcome.committed, false);
  assert.equal(outcome.flag, 'UC');
  assert.equal(endpoint.active, 0);
  assert.equal(endpoint.failed, 1);
});
