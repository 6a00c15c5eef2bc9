import { afterEach, beforeEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { Logger } from '../../log.ts';
import { fakeContext } from '../../pipeline/fake-context.ts';
import type { Handler, Outcome } from '../../pipeline/context.ts';
import { ErrorRateBreaker, circuitBreaker } from './error-rate-breaker.ts';
import type { ErrorRateOptions } from './resolve.ts';

const OK: Outcome = { status: 200, committed: true };
const BAD: Outcome = { status: 503, committed: true };
const OPTIONS: ErrorRateOptions = { thresholdPercent: 50, volumeThreshold: 4, windowMs: 10_000, resetTimeoutMs: 30_000 };

function captureLogger(): { logger: Logger; lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** A `next` answering each pass with the given outcome, counting calls. */
function answering(): { next: Handler; calls: number; answer: Outcome } {
  const harness = { calls: 0, answer: OK, next: (): Promise<Outcome> => (harness.calls++, Promise.resolve(harness.answer)) };
  return harness;
}

let breaker: ErrorRateBreaker | undefined;
beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 }));
afterEach(() => {
  breaker?.shutdown();
  breaker = undefined;
  mock.timers.reset();
});

function setup(options: ErrorRateOptions = OPTIONS) {
  const log = captureLogger();
  breaker = new ErrorRateBreaker('svc.default', options, log.logger);
  const upstream = answering();
  const handler = breaker.layer(upstream.next);
  const send = async (outcome: Outcome): Promise<Outcome> => {
    upstream.answer = outcome;
    return handler(fakeContext());
  };
  return { breaker, log, upstream, handler, send };
}

test('opens once the window holds volumeThreshold requests and more than thresholdPercent failed', async () => {
  const { breaker, log, upstream, send } = setup();
  await send(OK);
  await send(OK);
  await send(BAD);
  await send(BAD); // 4 requests, 50 %: not more than the threshold
  assert.equal(breaker.state().state, 'closed');
  await send(BAD); // 5 requests, 60 %
  assert.equal(breaker.state().state, 'open');
  const callsBefore = upstream.calls;
  const refused = await send(OK);
  assert.deepEqual(refused, { status: 503, committed: false, flag: 'CO', detail: 'circuit open for Service svc.default' });
  assert.equal(upstream.calls, callsBefore, 'an open breaker never calls next');
  const state = breaker.state();
  assert.deepEqual({ opens: state.opens, failures: state.failures, successes: state.successes, shortCircuited: state.shortCircuited }, { opens: 1, failures: 3, successes: 2, shortCircuited: 1 });
  assert.deepEqual(state.window, { requests: 5, failures: 3, errorRatePercent: 60 });
  assert.deepEqual(log.lines.map((l) => l.level), ['warn']);
  assert.match(log.lines[0]?.message ?? '', /opened for Service svc\.default: error rate over threshold/);
});

test('below the volume threshold, failures alone never open it', async () => {
  const { breaker, send } = setup();
  for (let i = 0; i < 3; i++) await send(BAD);
  assert.equal(breaker.state().state, 'closed');
});

test('the failed pass still returns its own outcome to the caller', async () => {
  const { send } = setup();
  assert.deepEqual(await send({ status: 0, committed: false, flag: 'UF', detail: 'refused' }), { status: 0, committed: false, flag: 'UF', detail: 'refused' });
});

test('client disconnects and overflows are not failures', async () => {
  const { breaker, send } = setup();
  for (let i = 0; i < 10; i++) await send({ status: 499, committed: false, flag: 'DC' });
  for (let i = 0; i < 10; i++) await send({ status: 503, committed: false, flag: 'UO' });
  assert.equal(breaker.state().state, 'closed');
  assert.equal(breaker.state().failures, 0);
});

test('failures older than the window are forgotten', async () => {
  const { breaker, send } = setup();
  for (let i = 0; i < 3; i++) await send(BAD);
  mock.timers.tick(10_000);
  assert.equal(breaker.state().window.requests, 0);
  await send(BAD);
  assert.equal(breaker.state().state, 'closed');
});

async function trip(send: (o: Outcome) => Promise<Outcome>): Promise<void> {
  for (let i = 0; i < 4; i++) await send(BAD);
}

test('half-opens after resetTimeout, lets exactly one probe through, closes when it succeeds', async () => {
  const { breaker, log, handler, upstream } = setup();
  upstream.answer = BAD;
  for (let i = 0; i < 4; i++) await handler(fakeContext());
  mock.timers.tick(29_999);
  assert.equal(breaker.state().state, 'open');
  mock.timers.tick(1);
  assert.equal(breaker.state().state, 'half-open');

  const held = Promise.withResolvers<Outcome>();
  let probes = 0;
  const probeHandler = breaker.layer(() => (probes++, held.promise));
  const probe = probeHandler(fakeContext());
  const during = await probeHandler(fakeContext());
  assert.equal(during.flag, 'CO', 'a second request while the probe runs is refused');
  assert.equal(probes, 1);
  held.resolve(OK);
  assert.deepEqual(await probe, OK);
  assert.equal(breaker.state().state, 'closed');
  assert.deepEqual(log.lines.map((l) => `${l.level} ${l.message}`), [
    'warn circuit breaker opened for Service svc.default: error rate over threshold',
    'info circuit breaker half-open for Service svc.default: next request is the probe',
    'info circuit breaker closed for Service svc.default',
  ]);
  const state = breaker.state();
  assert.deepEqual([state.opens, state.halfOpens, state.closes], [1, 1, 1]);
});

test('a failed probe reopens it for another resetTimeout', async () => {
  const { breaker, log, send } = setup();
  await trip(send);
  mock.timers.tick(30_000);
  assert.deepEqual(await send(BAD), BAD, 'the probe reached the upstream and its answer is passed on');
  assert.equal(breaker.state().state, 'open');
  assert.equal(breaker.state().opens, 2);
  assert.match(log.lines.at(-1)?.message ?? '', /probe failed/);
  mock.timers.tick(30_000);
  assert.equal(breaker.state().state, 'half-open');
  await send(OK);
  assert.equal(breaker.state().state, 'closed');
});

test('a probe still running after resetTimeout reopens the breaker; its late success does not close it', async () => {
  const { breaker, log } = setup();
  const upstream = answering();
  upstream.answer = BAD;
  const handler = breaker.layer(upstream.next);
  for (let i = 0; i < 4; i++) await handler(fakeContext());
  mock.timers.tick(30_000);
  const held = Promise.withResolvers<Outcome>();
  const probe = breaker.layer(() => held.promise)(fakeContext());
  mock.timers.tick(30_000);
  assert.equal(breaker.state().state, 'open');
  assert.match(log.lines.at(-1)?.message ?? '', /probe timed out/);
  held.resolve(OK);
  await probe;
  assert.equal(breaker.state().state, 'open');
  mock.timers.tick(30_000);
  assert.equal(breaker.state().state, 'half-open');
});

test('after shutdown, passes run unprotected and timers are gone', async () => {
  const { breaker, log, upstream, send } = setup();
  await trip(send);
  breaker.shutdown();
  breaker.shutdown();
  assert.deepEqual(await send(OK), OK);
  assert.equal(upstream.calls, 5);
  const logged = log.lines.length;
  mock.timers.tick(60_000);
  assert.equal(log.lines.length, logged, 'no half-open after shutdown: the reset timer was cleared');
});

test('circuitBreaker() adds no layer when the breaker is not configured', () => {
  assert.equal(circuitBreaker(undefined), undefined);
  const { breaker } = setup();
  assert.equal(circuitBreaker(breaker), breaker.layer);
});

test("opossum's timers never keep the process alive, even with the breaker open", () => {
  mock.timers.reset();
  const module = new URL('./error-rate-breaker.ts', import.meta.url).href;
  const script = `
    const { ErrorRateBreaker } = await import(${JSON.stringify(module)});
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const breaker = new ErrorRateBreaker('svc.default', { thresholdPercent: 1, volumeThreshold: 1, windowMs: 60000, resetTimeoutMs: 600000 }, quiet);
    const fail = breaker.layer(() => Promise.resolve({ status: 500, committed: true }));
    await fail({});
    if (breaker.state().state !== 'open') process.exit(3);
  `;
  const started = Date.now();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
  assert.equal(child.status, 0, child.stderr.toString());
  assert.ok(Date.now() - started < 15_000);
});
