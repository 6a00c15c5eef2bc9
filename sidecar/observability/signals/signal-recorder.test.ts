import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { totalCount } from '../../../mesh/signals-histogram.ts';
import type { RequestObserver } from '../../listeners/request-entry.ts';
import { newRequestContext, type Direction, type Outcome, type RequestContext } from '../../pipeline/context.ts';
import type { RuntimeConfig } from '../../runtime/compile.ts';
import { SidecarMetrics } from '../metrics/sidecar-metrics.ts';
import { chainObservers, createSignalRecorder, isSignalError } from './index.ts';

function context(direction: Direction): RequestContext {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.headers = {};
  const ctx = newRequestContext({ req, res: new ServerResponse(req), direction, path: '/', query: '', requestId: 'r', hasBody: false, exposeFlag: false });
  ctx.destination = 'checkout.shop';
  return ctx;
}

/** Runs one request through an observer the way runChain does: onStart, then the observer with the outcome. */
function run(observe: RequestObserver, direction: Direction, outcome: Outcome): RequestContext {
  const ctx = context(direction);
  observe.onStart?.(ctx);
  observe(ctx, outcome);
  return ctx;
}

const ok: Outcome = { status: 200, committed: true };

describe('createSignalRecorder', () => {
  it('counts inbound requests only, with their concurrency, on its clock', () => {
    const clock = { now: 50_000 };
    const recorder = createSignalRecorder({ now: () => clock.now });
    const inbound = context('inbound');
    const outbound = context('outbound');
    recorder.observer.onStart?.(inbound);
    recorder.observer.onStart?.(outbound);
    assert.equal(recorder.inFlight, 1);
    clock.now += 500;
    recorder.observer(inbound, ok);
    recorder.observer(outbound, ok);
    assert.equal(recorder.inFlight, 0);
    const { panic, stable } = recorder.snapshot(51_000);
    assert.deepEqual([panic.requests, panic.errors, panic.peakConcurrency], [1, 0, 1]);
    assert.equal(panic.concurrency, 500 / 1000);
    assert.equal(totalCount(stable.latency), 1);
    assert.deepEqual(recorder.snapshot(), recorder.snapshot(clock.now));
  });

  it('does not decrement concurrency for a request whose start it never saw', () => {
    const recorder = createSignalRecorder({ now: () => 1000 });
    run(recorder.observer, 'inbound', ok);
    recorder.observer.onStart?.(context('inbound'));
    recorder.observer(context('inbound'), ok); // another context: its start was not seen
    assert.equal(recorder.inFlight, 1);
  });

  it('counts 5xx and proxy failures as errors, not client departures or 4xx', () => {
    const cases: Array<[Outcome, boolean]> = [
      [{ status: 200, committed: true }, false],
      [{ status: 404, committed: true }, false],
      [{ status: 429, committed: true, flag: 'RL' }, false],
      [{ status: 499, committed: false, flag: 'DC' }, false],
      [{ status: 200, committed: true, flag: 'DI' }, false],
      [{ status: 500, committed: true }, true],
      [{ status: 503, committed: true, flag: 'UO' }, true],
      [{ status: 504, committed: true, flag: 'UT' }, true],
      [{ status: 200, committed: true, flag: 'UC' }, true],
      [{ status: 0, committed: false, flag: 'UF' }, true],
    ];
    for (const [outcome, error] of cases) assert.equal(isSignalError(outcome), error, JSON.stringify(outcome));
    const recorder = createSignalRecorder({ now: () => 2000 });
    for (const [outcome] of cases) run(recorder.observer, 'inbound', outcome);
    const { panic } = recorder.snapshot(2500);
    assert.deepEqual([panic.requests, panic.errors], [cases.length, cases.filter(([, e]) => e).length]);
  });

  it('composes with the metrics observer and the access log through chainObservers', async () => {
    const recorder = createSignalRecorder({ now: () => 3000 });
    const logged: string[] = [];
    const accessLog: RequestObserver = (ctx) => logged.push(ctx.direction);
    const source = { loaded: false, current: undefined as unknown as RuntimeConfig, reloadFailures: 0 };
    const metrics = new SidecarMetrics({ source, service: 'checkout', namespace: 'shop', processMetrics: false });
    const observe = metrics.observer(chainObservers(recorder.observer, accessLog));
    const ctx = context('inbound');
    observe.onStart?.(ctx);
    assert.equal(recorder.inFlight, 1);
    const gauge = await metrics.registry.getSingleMetric('outrigger_requests_in_flight')?.get();
    assert.equal(gauge?.values.find((v) => v.labels['direction'] === 'inbound')?.value, 1);
    observe(ctx, ok);
    run(observe, 'outbound', ok);
    assert.equal(recorder.inFlight, 0);
    assert.deepEqual(logged, ['inbound', 'outbound']);
    assert.equal(recorder.snapshot(3500).panic.requests, 1);
  });

  it('chainObservers skips undefined entries and calls every onStart in order', () => {
    const calls: string[] = [];
    const a: RequestObserver = () => calls.push('a');
    a.onStart = () => calls.push('a.start');
    const b: RequestObserver = () => calls.push('b');
    const chained = chainObservers(a, undefined, b);
    run(chained, 'inbound', ok);
    assert.deepEqual(calls, ['a.start', 'a', 'b']);
    assert.equal(chainObservers(b).onStart, undefined);
  });
});
