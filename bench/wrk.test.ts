import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorCount, parseTimeUs, parseWrk, wrkArgs } from './wrk.ts';

const CLEAN = `Running 5s test @ http://127.0.0.1:40931/100b
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   412.00us  101.33us   9.87ms   91.02%
    Req/Sec    23.41k     1.02k   25.10k    72.00%
  Latency Distribution
     50%  398.00us
     75%  441.00us
     90%  502.00us
     99%    1.23ms
  116482 requests in 5.00s, 38.65MB read
Requests/sec:  23293.71
Transfer/sec:      7.73MB
`;

const ERRORS = `Running 1s test @ http://127.0.0.1:1234/16k
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.50s   300.12ms   2.00s    80.00%
    Req/Sec     1.20k   100.00     1.30k    60.00%
  Latency Distribution
     50%    1.52s
     75%    1.80s
     90%    1.95s
     99%    2.00s
  1212 requests in 1.01s, 19.20MB read
  Socket errors: connect 0, read 3, write 0, timeout 12
  Non-2xx or 3xx responses: 40
Requests/sec:   1200.00
Transfer/sec:     19.01MB
`;

test('parseTimeUs handles every wrk unit', () => {
  assert.equal(parseTimeUs('412.00us'), 412);
  assert.equal(parseTimeUs('1.23ms'), 1230);
  assert.equal(parseTimeUs('2.00s'), 2_000_000);
  assert.equal(parseTimeUs('1.50m'), 90_000_000);
  assert.throws(() => parseTimeUs('fast'));
});

test('parseWrk reads a clean run', () => {
  const r = parseWrk(CLEAN);
  assert.equal(r.requests, 116482);
  assert.equal(r.seconds, 5);
  assert.equal(r.rps, 23293.71);
  assert.deepEqual(r.latencyUs, { avg: 412, max: 9870, p50: 398, p75: 441, p90: 502, p99: 1230 });
  assert.equal(errorCount(r.errors), 0);
});

test('parseWrk reads socket errors and non-2xx responses', () => {
  const r = parseWrk(ERRORS);
  assert.deepEqual(r.errors, { connect: 0, read: 3, write: 0, timeout: 12, non2xx: 40 });
  assert.equal(errorCount(r.errors), 55);
  assert.equal(r.latencyUs.p50, 1_520_000);
});

test('parseWrk refuses output without --latency', () => {
  assert.throws(() => parseWrk(CLEAN.replace(/ {2}Latency Distribution[\s\S]*?99%.*\n/, '')), /--latency/);
});

test('wrkArgs caps threads at connections and sends Host as given', () => {
  const args = wrkArgs({ url: 'http://127.0.0.1:1/100b', connections: 1, threads: 2, durationS: 5, headers: { Host: 'upstream' } });
  assert.deepEqual(args.slice(0, 4), ['-t', '1', '-c', '1']);
  assert.ok(args.includes('--latency'));
  assert.deepEqual(args.slice(-3), ['-H', 'Host: upstream', 'http://127.0.0.1:1/100b']);
});
