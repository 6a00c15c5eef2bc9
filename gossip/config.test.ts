import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LAN_CONFIG, lossAwareRetransmitLimit, pushPullInterval, retransmitLimit, suspicionBounds, suspicionTimeout } from './config.ts';

test('LAN defaults are memberlist DefaultLANConfig', () => {
  const c = DEFAULT_LAN_CONFIG;
  assert.deepEqual(
    [c.probeIntervalMs, c.probeTimeoutMs, c.indirectChecks, c.suspicionMult, c.suspicionMaxTimeoutMult, c.retransmitMult, c.gossipIntervalMs, c.gossipNodes, c.gossipToTheDeadMs, c.pushPullIntervalMs, c.streamTimeoutMs, c.awarenessMaxMultiplier, c.udpBufferSize],
    [1_000, 500, 3, 4, 6, 4, 200, 3, 30_000, 30_000, 10_000, 8, 1_400],
  );
});

test('suspicion bounds: min = mult · max(1, log10 n) · interval, max = 6 · min', () => {
  assert.deepEqual(suspicionBounds(DEFAULT_LAN_CONFIG, 100), { minMs: 8_000, maxMs: 48_000 });
  assert.deepEqual(suspicionBounds(DEFAULT_LAN_CONFIG, 5), { minMs: 4_000, maxMs: 24_000 });
  assert.deepEqual(suspicionBounds(DEFAULT_LAN_CONFIG, 1_000), { minMs: 12_000, maxMs: 72_000 });
});

test('the suspicion timeout shrinks from max to min with confirmations, logarithmically', () => {
  assert.equal(suspicionTimeout(0, 2, 8_000, 48_000), 48_000);
  assert.equal(suspicionTimeout(1, 2, 8_000, 48_000), Math.floor(48_000 - (Math.log(2) / Math.log(3)) * 40_000));
  assert.equal(suspicionTimeout(2, 2, 8_000, 48_000), 8_000);
  assert.equal(suspicionTimeout(5, 2, 8_000, 48_000), 8_000);
  assert.equal(suspicionTimeout(0, 0, 8_000, 48_000), 8_000);
});

test('retransmits: mult · ceil(log10(n + 1)), stretched by observed loss', () => {
  assert.equal(retransmitLimit(4, 1), 4);
  assert.equal(retransmitLimit(4, 100), 12);
  assert.equal(retransmitLimit(4, 1_000), 16);
  assert.equal(lossAwareRetransmitLimit(16, 1), 16);
  assert.equal(lossAwareRetransmitLimit(16, 0.25), 32);
  assert.equal(lossAwareRetransmitLimit(16, 0), 64, 'floored at a quarter of the delivery rate');
});

test('push/pull interval scales above 32 members', () => {
  assert.equal(pushPullInterval(30_000, 10), 30_000);
  assert.equal(pushPullInterval(30_000, 32), 30_000);
  assert.equal(pushPullInterval(30_000, 33), 60_000);
  assert.equal(pushPullInterval(30_000, 64), 60_000);
  assert.equal(pushPullInterval(30_000, 100), 90_000);
  assert.equal(pushPullInterval(30_000, 1_000), 180_000);
});
