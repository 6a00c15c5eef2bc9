import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BroadcastQueue } from './broadcast-queue.ts';

const bytes = (n: number, fill = 1): Uint8Array => new Uint8Array(n).fill(fill);

test('each broadcast is sent its limit of times, then leaves the queue and reports done', () => {
  let done = 0;
  const queue = new BroadcastQueue(100, () => 3);
  queue.enqueue('a', bytes(10), () => done++);
  for (let i = 0; i < 3; i++) assert.equal(queue.take(2, 1_400).length, 1);
  assert.equal(queue.take(2, 1_400).length, 0);
  assert.equal(done, 1);
});

test('a newer message about the same member replaces the queued one', () => {
  const queue = new BroadcastQueue(100, () => 5);
  queue.enqueue('a', bytes(10, 1));
  queue.enqueue('a', bytes(10, 2));
  const taken = queue.take(2, 1_400);
  assert.equal(taken.length, 1);
  assert.equal(taken[0]?.[0], 2);
});

test('the least-sent go first, newest first among equals, within the byte budget', () => {
  const queue = new BroadcastQueue(100, () => 10);
  queue.enqueue('old', bytes(100, 1));
  queue.take(2, 1_400);
  queue.enqueue('new1', bytes(100, 2));
  queue.enqueue('new2', bytes(100, 3));
  const taken = queue.take(2, 210);
  assert.deepEqual(taken.map((b) => b[0]), [3, 2]);
});

test('beyond its bound the queue drops the most-sent broadcasts', () => {
  const queue = new BroadcastQueue(2, () => 10);
  queue.enqueue('a', bytes(5, 1));
  queue.take(2, 1_400);
  queue.enqueue('b', bytes(5, 2));
  queue.enqueue('c', bytes(5, 3));
  assert.equal(queue.length, 2);
  assert.equal(queue.dropped, 1);
  assert.deepEqual(queue.take(2, 1_400).map((b) => b[0]).sort(), [2, 3]);
});
