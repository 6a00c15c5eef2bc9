import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UpstreamPools } from './pools.ts';

const settings = { connectionsPerEndpoint: 4, idleTimeoutMs: 1_000, connectTimeoutMs: 1_000 };

test('a pool no config uses closes only after the grace, and is taken back if used again before', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const pools = new UpstreamPools({ retireGraceMs: 1_000 });
  const a = pools.get('127.0.0.1:1', settings);
  const b = pools.get('127.0.0.1:2', settings);
  pools.retain(new Set([b.key]));
  t.mock.timers.tick(999);
  assert.equal(a.pool.closed, false, 'still serving picks from a replaced generation');
  assert.equal(pools.get('127.0.0.1:1', settings).pool, a.pool, 'taken back');
  t.mock.timers.tick(10);
  assert.equal(a.pool.closed, false);

  pools.retain(new Set([a.key]));
  t.mock.timers.tick(1_000);
  assert.equal(b.pool.closed, true);
  assert.notEqual(pools.get('127.0.0.1:2', settings).pool, b.pool, 'a closed pool is never handed out');
  await pools.destroy();
});
