import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fakeContext } from '../pipeline/fake-context.ts';
import { AccessLog } from './access-log.ts';

const readLines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

test('one JSON line per request with the fields users search by', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'alog-')), 'access.log');
  const log = new AccessLog(file);
  const ctx = fakeContext({ method: 'POST', path: '/orders', headers: { 'content-length': '12' } });
  ctx.flag = 'UF';
  ctx.attempts = 3;
  log.record(ctx, { status: 502, committed: true, detail: 'after 3 attempts: connect ECONNREFUSED' });
  await log.close();
  const [line] = readLines(file);
  assert.ok(line);
  assert.equal(line.method, 'POST');
  assert.equal(line.path, '/orders');
  assert.equal(line.status, 502);
  assert.equal(line.flag, 'UF');
  assert.equal(line.attempts, 3);
  assert.equal(line.bytesReceived, 12);
  assert.equal(line.requestId, 'test-request');
  assert.equal(typeof line.durationMs, 'number');
  assert.match(String(line.time), /^\d{4}-\d\d-\d\dT/);
});

test('sampling drops a share of successes but never a failure', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'alog-')), 'access.log');
  let i = 0;
  const log = new AccessLog(file, { sampleRate: 0.25, random: () => (i++ % 4) / 4 });
  for (let n = 0; n < 100; n++) log.record(fakeContext(), { status: 200, committed: true });
  for (let n = 0; n < 10; n++) log.record(fakeContext(), { status: 503, committed: true, flag: 'UH' });
  await log.close();
  const lines = readLines(file);
  assert.equal(lines.filter((l) => l.status === 200).length, 25);
  assert.equal(lines.filter((l) => l.status === 503).length, 10);
});
