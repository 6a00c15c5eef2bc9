import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as undici from 'undici';
import { Pool } from './undici-pool.ts';

test('the directly loaded Pool is the class undici exports', () => {
  assert.equal(Pool, undici.Pool);
});
