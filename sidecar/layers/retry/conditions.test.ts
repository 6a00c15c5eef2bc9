import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conditionsMatch, isRefusedStream, replaySafe } from './conditions.ts';
import { conditionsFor } from './policy.ts';
import { retryContext } from './test-support.ts';

const refused = 'Stream closed with error code NGHTTP2_REFUSED_STREAM';

describe('conditionsMatch', () => {
  const defaults = conditionsFor(['connect-failure', 'refused-stream', 'reset', 'gateway-error'], []);

  it('maps statuses and failure flags onto the conditions', () => {
    for (const reason of [502, 503, 504, 'UF', 'UCT', 'UC', 'UPE', 'UT'] as const) assert.equal(conditionsMatch(defaults, reason, undefined), true, String(reason));
    for (const reason of [500, 429, 200, 'UH', 'UO', 'DC', 'DPE', 'URX'] as const) assert.equal(conditionsMatch(defaults, reason, undefined), false, String(reason));
  });

  it('refused-stream alone matches only refused streams', () => {
    const only = conditionsFor(['refused-stream'], []);
    assert.equal(isRefusedStream('UC', refused), true);
    assert.equal(conditionsMatch(only, 'UC', refused), true);
    assert.equal(conditionsMatch(only, 'UC', 'other side closed'), false);
  });
});

describe('replaySafe', () => {
  it('idempotent methods and Idempotency-Key requests are always safe to resend', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']) assert.equal(replaySafe(retryContext({ method }), 503, undefined), true, method);
    assert.equal(replaySafe(retryContext({ method: 'PATCH', headers: { 'idempotency-key': '"k1"' } }), 'UC', undefined), true);
  });

  it('other methods only when the app never saw the request', () => {
    const post = retryContext({ method: 'POST' });
    assert.equal(replaySafe(post, 'UF', undefined), true);
    assert.equal(replaySafe(post, 'UCT', undefined), true);
    assert.equal(replaySafe(post, 'UC', refused), true);
    assert.equal(replaySafe(post, 'UC', 'other side closed'), false);
    assert.equal(replaySafe(post, 'UT', undefined), false);
    assert.equal(replaySafe(post, 503, undefined), false);
  });
});
