import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coalesce } from './coalesce.ts';

test('a burst runs once, at most the delay after its first change, even while changes keep coming', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let runs = 0;
  const batch = coalesce(50, () => runs++);
  batch.trigger();
  t.mock.timers.tick(30);
  batch.trigger();
  t.mock.timers.tick(19);
  assert.equal(runs, 0);
  t.mock.timers.tick(1);
  assert.equal(runs, 1, 'the second change did not push the run back');
  batch.trigger();
  t.mock.timers.tick(50);
  assert.equal(runs, 2);
});

test('cancel drops a pending run', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let runs = 0;
  const batch = coalesce(50, () => runs++);
  batch.trigger();
  batch.cancel();
  t.mock.timers.tick(100);
  assert.equal(runs, 0);
});
