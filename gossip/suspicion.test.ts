import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Suspicion } from './suspicion.ts';
import { SimulatedNetwork } from './simulation/simulated-network.ts';

function setup(): { network: SimulatedNetwork; fired: number[]; start: (k: number) => Suspicion } {
  const network = new SimulatedNetwork(1);
  const { clock } = network.addNode('a:1');
  const fired: number[] = [];
  return { network, fired, start: (k) => new Suspicion('x', k, 8_000, 48_000, clock, () => fired.push(network.now)) };
}

test('without confirmations the suspicion lasts the maximum', () => {
  const { network, fired, start } = setup();
  start(2);
  network.run(60_000);
  assert.deepEqual(fired, [48_000]);
});

test('independent confirmations shorten it, down to the minimum; repeats from one member do not', () => {
  const { network, fired, start } = setup();
  const suspicion = start(2);
  network.run(1_000);
  assert.equal(suspicion.confirm('x'), false, 'the first accuser does not count twice');
  assert.equal(suspicion.confirm('y'), true);
  assert.equal(suspicion.confirm('y'), false);
  network.run(1_000);
  assert.equal(suspicion.confirm('z'), true);
  assert.equal(suspicion.confirm('w'), false, 'k reached');
  network.run(60_000);
  assert.deepEqual(fired, [8_000]);
});

test('a cancelled suspicion never fires', () => {
  const { network, fired, start } = setup();
  start(2).cancel();
  network.run(60_000);
  assert.deepEqual(fired, []);
});

test('k = 0 (a cluster too small to confirm) uses the minimum at once', () => {
  const { network, fired, start } = setup();
  start(0);
  network.run(60_000);
  assert.deepEqual(fired, [8_000]);
});
