import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hpaProposal, largestProposal, type HpaTarget } from './hpa.ts';

const value = (v: number): HpaTarget => ({ type: 'Value', value: v });
const average = (v: number): HpaTarget => ({ type: 'AverageValue', averageValue: v });

describe('hpaProposal (the HPA replica calculator for external metrics)', () => {
  it('Value target: ceil(current × value / target)', () => {
    const cases: Array<[current: number, metric: number, target: number, expected: number]> = [
      [3, 150, 100, 5], // ratio 1.5 → ceil(4.5)
      [10, 20, 100, 2], // scale down
      [1, 1000, 100, 10],
      [4, 0, 100, 0], // no traffic: the formula says 0; minReplicas is the HPA's business
      [2, 0.25, 0.1, 5], // error ratio 25 % against a 10 % target
    ];
    for (const [current, metric, target, expected] of cases) {
      assert.equal(hpaProposal(current, metric, value(target)).replicas, expected, `${current} × ${metric} / ${target}`);
    }
  });

  it('Value target: no change within the tolerance, judged on |value / target − 1| as the HPA computes it', () => {
    assert.deepEqual(hpaProposal(3, 105, value(100)), { replicas: 3, usageRatio: 1.05, withinTolerance: true });
    assert.equal(hpaProposal(3, 95, value(100)).replicas, 3);
    // |1 − 0.9| is 0.09999999999999998 in binary: within; |1 − 1.1| is 0.10000000000000009: outside, as in Go.
    assert.equal(hpaProposal(3, 90, value(100)).replicas, 3);
    assert.equal(hpaProposal(3, 110, value(100)).replicas, 4);
    assert.equal(hpaProposal(3, 111, value(100)).replicas, 4);
    // A wider tolerance holds more; none scales on any difference.
    assert.equal(hpaProposal(3, 125, value(100), 0.3).replicas, 3);
    assert.equal(hpaProposal(2, 101, value(100), 0).replicas, 3);
  });

  it('Value target at 0 replicas: ceil(value / target), no tolerance', () => {
    assert.equal(hpaProposal(0, 250, value(100)).replicas, 3);
    assert.equal(hpaProposal(0, 100, value(100)).replicas, 1);
    assert.equal(hpaProposal(0, 0, value(100)).replicas, 0);
  });

  it('AverageValue target: divides by the current replicas to judge tolerance, then proposes ceil(value / target)', () => {
    // 400 rps over 4 replicas against 50 per replica: ratio 2, proposal 8.
    assert.deepEqual(hpaProposal(4, 400, average(50)), { replicas: 8, usageRatio: 2, withinTolerance: false });
    // 210 over 4 is 52.5 per replica: ratio 1.05, within tolerance.
    assert.deepEqual(hpaProposal(4, 210, average(50)), { replicas: 4, usageRatio: 1.05, withinTolerance: true });
    assert.equal(hpaProposal(4, 50, average(50)).replicas, 1);
    assert.equal(hpaProposal(5, 301, average(50)).replicas, 7);
    // Concurrency: 7.5 in flight against 1 per replica.
    assert.equal(hpaProposal(3, 7.5, average(1)).replicas, 8);
  });

  it('AverageValue target at 0 replicas: ceil(value / target), or 0 when there is no usage (Go: NaN is within tolerance)', () => {
    const up = hpaProposal(0, 120, average(50));
    assert.equal(up.replicas, 3);
    assert.equal(up.usageRatio, Infinity);
    const idle = hpaProposal(0, 0, average(50));
    assert.equal(idle.replicas, 0);
    assert.ok(Number.isNaN(idle.usageRatio));
  });

  it('works on the milli-values the HPA reads from the quantities', () => {
    // 100.0004 is served as "100" (100000m): exactly on target.
    assert.deepEqual(hpaProposal(7, 100.0004, value(100), 0), { replicas: 7, usageRatio: 1, withinTolerance: true });
    // 0.0004 against 0.001: the HPA sees 0m / 1m.
    assert.equal(hpaProposal(3, 0.0004, value(0.001)).replicas, 0);
  });

  it('across metrics, the largest proposal wins', () => {
    assert.equal(largestProposal([3, 8, 5]), 8);
    assert.equal(largestProposal([]), undefined);
  });
});
