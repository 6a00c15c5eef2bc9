import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { MAX_SOURCES, OTHER_SOURCE } from '../../../mesh/signals-report.ts';
import { newRequestContext, type RequestContext } from '../../pipeline/context.ts';
import { callerOf, createSignalRecorder, SignalRing } from './index.ts';

function context(source?: string | string[]): RequestContext {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.headers = source === undefined ? {} : { 'x-outrigger-source': source as string };
  return newRequestContext({ req, res: new ServerResponse(req), direction: 'inbound', path: '/', query: '', requestId: 'r', hasBody: false, exposeFlag: false });
}

describe('per-caller counts', () => {
  it('reads the caller from x-outrigger-source: a Service key, "other" when unreadable, none without', () => {
    assert.equal(callerOf(context('frontend.default')), 'frontend.default');
    assert.equal(callerOf(context()), undefined);
    assert.equal(callerOf(context('Not A Service')), OTHER_SOURCE);
    assert.equal(callerOf(context(['a.b', 'c.d'])), OTHER_SOURCE);
    assert.equal(callerOf(context(`${'a'.repeat(100)}.${'b'.repeat(60)}`)), OTHER_SOURCE);
  });

  it('counts inbound requests and errors per caller in both windows', () => {
    const clock = { now: 10_000 };
    const recorder = createSignalRecorder({ now: () => clock.now });
    const run = (source: string | undefined, status: number): void => {
      const ctx = context(source);
      recorder.observer.onStart?.(ctx);
      recorder.observer(ctx, { status, committed: true });
    };
    for (let i = 0; i < 5; i++) run('frontend.default', 200);
    run('frontend.default', 503);
    run('checkout.default', 200);
    run(undefined, 200);
    clock.now += 10_000;
    run('checkout.default', 500);
    const { stable, panic } = recorder.snapshot();
    assert.equal(stable.requests, 9);
    assert.deepEqual(stable.sources, { 'frontend.default': { requests: 6, errors: 1 }, 'checkout.default': { requests: 2, errors: 1 } });
    assert.deepEqual(panic.sources, { 'checkout.default': { requests: 1, errors: 1 } });
    clock.now += 120_000;
    assert.equal(recorder.snapshot().stable.sources, undefined, 'nothing left once the window has passed');
  });

  it('names at most MAX_SOURCES callers at once, the rest as other, and frees a caller\'s column once it is out of the window', () => {
    const ring = new SignalRing(0);
    for (let i = 0; i < MAX_SOURCES + 5; i++) ring.end(500, 1, false, false, `s${i}.ns`);
    const first = ring.windows(900).stable.sources ?? {};
    assert.equal(Object.keys(first).length, MAX_SOURCES + 1);
    assert.deepEqual(first[OTHER_SOURCE], { requests: 5, errors: 0 });
    assert.deepEqual(first['s0.ns'], { requests: 1, errors: 0 });
    // Two minutes later every old caller has left the window: new ones get named columns again.
    ring.end(120_500, 1, true, false, 'late.ns');
    const later = ring.windows(120_900).stable.sources;
    assert.deepEqual(later, { 'late.ns': { requests: 1, errors: 1 } });
  });
});
