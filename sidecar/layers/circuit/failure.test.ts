import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Outcome } from '../../pipeline/context.ts';
import { isGatewayError, isUpstreamFailure } from './failure.ts';

const table: [label: string, outcome: Outcome, failure: boolean, gateway: boolean][] = [
  ['200', { status: 200, committed: true }, false, false],
  ['404', { status: 404, committed: true }, false, false],
  ['499 without flag', { status: 499, committed: false }, false, false],
  ['500', { status: 500, committed: true }, true, false],
  ['501', { status: 501, committed: true }, true, false],
  ['502', { status: 502, committed: true }, true, true],
  ['503 drained for a retry', { status: 503, committed: false }, true, true],
  ['504', { status: 504, committed: true }, true, true],
  ['UF', { status: 0, committed: false, flag: 'UF' }, true, true],
  ['UCT', { status: 0, committed: false, flag: 'UCT' }, true, true],
  ['UT', { status: 504, committed: false, flag: 'UT' }, true, true],
  ['UC after 200 was committed', { status: 200, committed: true, flag: 'UC' }, true, true],
  ['UPE', { status: 0, committed: false, flag: 'UPE' }, true, true],
  ['UH', { status: 503, committed: false, flag: 'UH' }, true, false],
  ['DC', { status: 499, committed: false, flag: 'DC' }, false, false],
  ['DC after a 500 was committed', { status: 500, committed: true, flag: 'DC' }, false, false],
  ['UO', { status: 503, committed: false, flag: 'UO' }, false, false],
  ['CO', { status: 503, committed: false, flag: 'CO' }, false, false],
  ['DPE', { status: 400, committed: false, flag: 'DPE' }, false, false],
];

for (const [label, outcome, failure, gateway] of table) {
  test(`classify ${label}: failure=${failure} gateway=${gateway}`, () => {
    assert.equal(isUpstreamFailure(outcome), failure);
    assert.equal(isGatewayError(outcome), gateway);
  });
}

test('every gateway error is also an upstream failure', () => {
  for (const [, outcome] of table) if (isGatewayError(outcome)) assert.ok(isUpstreamFailure(outcome));
});
