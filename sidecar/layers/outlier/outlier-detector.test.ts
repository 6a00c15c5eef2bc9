import { afterEach, beforeEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { Endpoint } from '../../endpoints/endpoint.ts';
import type { Logger } from '../../log.ts';
import type { Outcome } from '../../pipeline/context.ts';
import { OutlierDetector } from './outlier-detector.ts';
import { DEFAULT_OUTLIER_DETECTION, type OutlierOptions } from './resolve.ts';
import { systemScheduler, type Scheduler } from './scheduler.ts';

const OK: Outcome = { status: 200, committed: true };
const E500: Outcome = { status: 500, committed: true };
const E503: Outcome = { status: 503, committed: true };
const REFUSED: Outcome = { status: 0, committed: false, flag: 'UF' };

/** The system scheduler read through node:test's mocked Date, so `mock.timers.tick` drives both time and timers. */
const scheduler: Scheduler = { now: () => Date.now(), after: systemScheduler.after };

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
afterEach(() => mock.timers.reset());

function setup(count: number, overrides: Partial<OutlierOptions> = {}) {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const endpoints = Array.from({ length: count }, (_, i) => new Endpoint({ address: `10.0.0.${i + 1}:8080` }));
  const detector = new OutlierDetector({ service: 'svc.default', endpoints, options: { ...DEFAULT_OUTLIER_DETECTION, ...overrides }, logger, scheduler });
  const feed = (endpoint: Endpoint | undefined, outcome: Outcome, times = 1): void => {
    assert.ok(endpoint);
    for (let i = 0; i < times; i++) detector.observe(endpoint, outcome);
  };
  return { detector, endpoints, lines, feed };
}

test('ejects at 5 consecutive 5xx, not at 4', () => {
  const { detector, endpoints, feed } = setup(3);
  const [bad] = endpoints;
  feed(bad, E500, 4);
  assert.equal(bad?.healthy, true);
  assert.equal(detector.state(bad!)?.consecutive5xx, 4);
  feed(bad, E500);
  assert.equal(bad?.healthy, false);
  assert.deepEqual({ ...detector.state(bad!), ejectedUntil: undefined }, {
    ejected: true,
    ejectedUntil: undefined,
    timesEjected: 1,
    ejections: 1,
    consecutive5xx: 0,
    consecutiveGateway: 0,
  });
  assert.equal(detector.state(bad!)?.ejectedUntil, new Date(1_000_000 + 30_000).toISOString());
});

test('a success between failures resets the streak', () => {
  const { endpoints, feed } = setup(3);
  const [bad] = endpoints;
  feed(bad, E500, 4);
  feed(bad, OK);
  feed(bad, E500, 4);
  assert.equal(bad?.healthy, true);
});

test('a 4xx is a success; a client disconnect never reaches the detector (see the observer layer)', () => {
  const { endpoints, feed } = setup(3);
  const [bad] = endpoints;
  feed(bad, E500, 4);
  feed(bad, { status: 404, committed: true });
  feed(bad, E500, 4);
  assert.equal(bad?.healthy, true);
});

test('connect failures and timeouts count as 5xx and as gateway errors', () => {
  const { detector, endpoints, feed } = setup(3);
  const [bad] = endpoints;
  feed(bad, REFUSED, 2);
  feed(bad, { status: 504, committed: false, flag: 'UT' }, 2);
  assert.deepEqual([detector.state(bad!)?.consecutive5xx, detector.state(bad!)?.consecutiveGateway], [4, 4]);
  feed(bad, { status: 0, committed: false, flag: 'UCT' });
  assert.equal(bad?.healthy, false);
  assert.equal(detector.summary().ejectionsConsecutiveGateway, 1);
});

test('gateway threshold alone: a 500 resets the gateway streak but not the 5xx one', () => {
  const { detector, endpoints, feed } = setup(3, { consecutive5xx: 0, consecutiveGatewayErrors: 3 });
  const [bad] = endpoints;
  feed(bad, E503, 2);
  feed(bad, E500);
  feed(bad, E503, 2);
  assert.equal(bad?.healthy, true);
  assert.equal(detector.state(bad!)?.consecutive5xx, 5, 'the 5xx trigger is off, so its counter only counts');
  feed(bad, E503);
  assert.equal(bad?.healthy, false);
});

test('3 replicas, one bad, default 10 %: the bad one is ejected and returns after 30 s', () => {
  const { detector, endpoints, lines, feed } = setup(3);
  const [bad, good1, good2] = endpoints;
  feed(bad, E503, 5);
  feed(good1, OK, 5);
  assert.deepEqual(endpoints.map((e) => e.healthy), [false, true, true]);
  mock.timers.tick(29_999);
  assert.equal(bad?.healthy, false);
  mock.timers.tick(1);
  assert.equal(bad?.healthy, true);
  assert.equal(detector.state(bad!)?.ejected, false);
  assert.deepEqual(lines.map((l) => `${l.level} ${l.message}`), [
    'warn endpoint 10.0.0.1:8080 of Service svc.default ejected for 30000 ms after 5 consecutive gateway errors',
    'info endpoint 10.0.0.1:8080 of Service svc.default returned after 30000 ms ejected',
  ]);
  assert.deepEqual(detector.summary(), { options: DEFAULT_OUTLIER_DETECTION, ejectedNow: 0, ejections: 1, ejectionsConsecutive5xx: 0, ejectionsConsecutiveGateway: 1, returns: 1, overflows: 0 });
  assert.ok(good2?.healthy);
});

test('ejection time grows 30, 60, 90 s with repeated ejections and is capped at maxEjectionTime', () => {
  const { endpoints, lines, feed } = setup(3, { maxEjectionTimeMs: 100_000 });
  const [bad] = endpoints;
  const durations: number[] = [];
  for (let i = 0; i < 5; i++) {
    feed(bad, E500, 5);
    const match = /ejected for (\d+) ms/.exec(lines.at(-1)?.message ?? '');
    durations.push(Number(match?.[1]));
    mock.timers.tick(durations.at(-1) ?? 0);
    assert.equal(bad?.healthy, true);
  }
  assert.deepEqual(durations, [30_000, 60_000, 90_000, 100_000, 100_000]);
});

test('times ejected decays by one per interval without ejection', () => {
  const { detector, endpoints, lines, feed } = setup(3);
  const [bad] = endpoints;
  for (let i = 0; i < 3; i++) {
    feed(bad, E500, 5);
    mock.timers.tick(30_000 * (i + 1));
  }
  assert.equal(detector.state(bad!)?.timesEjected, 3);
  mock.timers.tick(20_000);
  assert.equal(detector.state(bad!)?.timesEjected, 1);
  feed(bad, E500, 5);
  assert.match(lines.at(-1)?.message ?? '', /ejected for 60000 ms/);
  mock.timers.tick(60_000);
  mock.timers.tick(20_000);
  assert.equal(detector.state(bad!)?.timesEjected, 0);
  feed(bad, E500, 5);
  assert.match(lines.at(-1)?.message ?? '', /ejected for 30000 ms/);
});

test('all bad with Envoy\'s 10 %: one ejected, the refusal logged once per streak', () => {
  const { detector, endpoints, lines, feed } = setup(3, { maxEjectionPercent: 10 });
  for (const endpoint of endpoints) feed(endpoint, E500, 5);
  assert.deepEqual(endpoints.map((e) => e.healthy), [false, true, true]);
  feed(endpoints[1], E500, 10);
  assert.equal(detector.summary().overflows, 4);
  const refusals = lines.filter((l) => /not ejected/.test(l.message));
  assert.equal(refusals.length, 2, 'once for each refused endpoint, not once per refusal');
  assert.match(refusals[0]?.message ?? '', /max ejection percent \(10 %\) allows 1 of 3 endpoints ejected at once/);
});

test('a refused ejection waits for another full streak, and ejects once the budget frees up', () => {
  const { endpoints, feed } = setup(3, { maxEjectionPercent: 10 });
  const [first, second] = endpoints;
  feed(first, E500, 5);
  feed(second, E500, 5);
  assert.equal(second?.healthy, true);
  mock.timers.tick(30_000);
  assert.equal(first?.healthy, true);
  feed(second, E500, 4);
  assert.equal(second?.healthy, true, 'the streak restarted at the refusal');
  feed(second, E500);
  assert.equal(second?.healthy, false);
});

test('never the last healthy endpoint, even at 100 %', () => {
  const { endpoints, lines, feed } = setup(3, { maxEjectionPercent: 100 });
  for (const endpoint of endpoints) feed(endpoint, REFUSED, 5);
  assert.deepEqual(endpoints.map((e) => e.healthy), [false, false, true]);
  assert.match(lines.at(-1)?.message ?? '', /10\.0\.0\.3:8080 .* not ejected after consecutive gateway errors: it is the last healthy endpoint/);
});

test('a single endpoint is never ejected', () => {
  const { endpoints, feed } = setup(1, { maxEjectionPercent: 100 });
  feed(endpoints[0], E500, 20);
  assert.equal(endpoints[0]?.healthy, true);
});

test('with the default 50 %, two of three bad replicas are both ejected; the third never is', () => {
  const { endpoints, feed } = setup(3);
  feed(endpoints[0], E500, 5);
  feed(endpoints[1], E500, 5);
  assert.deepEqual(endpoints.map((e) => e.healthy), [false, false, true]);
  feed(endpoints[2], E500, 5);
  assert.equal(endpoints[2]?.healthy, true, 'the last healthy endpoint stays');
});

test('maxEjectionPercent allows several ejections in a large Service', () => {
  const { endpoints, feed } = setup(20, { maxEjectionPercent: 10 });
  for (const endpoint of endpoints.slice(0, 5)) feed(endpoint, E500, 5);
  assert.equal(endpoints.filter((e) => !e.healthy).length, 2);
});

test('outcomes of an ejected endpoint are ignored until it returns', () => {
  const { detector, endpoints, lines, feed } = setup(3);
  const [bad] = endpoints;
  feed(bad, E500, 5);
  feed(bad, E500, 20);
  assert.equal(detector.state(bad!)?.consecutive5xx, 0);
  assert.equal(lines.length, 1);
});

test('close() cancels return timers, puts ejected endpoints back and ignores later outcomes', () => {
  const { detector, endpoints, lines, feed } = setup(3);
  const [bad, other] = endpoints;
  feed(bad, E500, 5);
  detector.close();
  assert.equal(bad?.healthy, true);
  mock.timers.tick(300_000);
  assert.equal(lines.length, 1, 'no return logged: the timer was cleared');
  feed(other, E500, 10);
  assert.equal(other?.healthy, true);
});

test('a reload hands carried-over endpoints, their ejection and its timer to the new detector', () => {
  const { detector: old, endpoints, lines, feed } = setup(3);
  const [bad, kept] = endpoints;
  feed(bad, E500, 5);
  feed(kept, E500, 3);
  mock.timers.tick(10_000);
  const logger: Logger = { debug() {}, info: (m) => void lines.push({ level: 'info', message: m }), warn() {}, error() {} };
  const carried = [bad!, kept!, new Endpoint({ address: '10.0.0.9:8080' })];
  const next = new OutlierDetector({ service: 'svc.default', endpoints: carried, options: DEFAULT_OUTLIER_DETECTION, logger, scheduler, previous: old });
  old.close();
  assert.equal(bad?.healthy, false, 'closing the old detector does not return what it handed over');
  assert.equal(next.state(kept!)?.consecutive5xx, 3);
  assert.equal(next.summary().ejectedNow, 1);
  mock.timers.tick(19_999);
  assert.equal(bad?.healthy, false);
  mock.timers.tick(1);
  assert.equal(bad?.healthy, true);
  assert.equal(lines.filter((l) => /returned/.test(l.message)).length, 1);
  next.close();
});
