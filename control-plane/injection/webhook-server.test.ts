import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findOnPath } from '../../test/support/local-tools.ts';
import { createLogger } from '../../mesh/log.ts';
import { handleAdmissionReview } from './admission.ts';
import { resolveInjectorConfig } from './config.ts';
import type { Labels } from './k8s-types.ts';
import { MAX_REVIEW_BYTES, startWebhookServer, type RunningWebhook } from './webhook-server.ts';

const OPENSSL = findOnPath('openssl');
const config = resolveInjectorConfig();
const namespaces = new Map<string, Labels>([['shop', { 'outrigger.dev/inject': 'enabled' }]]);
const review = readFileSync(join(import.meta.dirname, 'testdata', 'admission', 'deployment-pod.json'), 'utf8');

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('injection webhook over HTTPS', { skip: OPENSSL ? false : 'openssl not found on PATH: cannot make a self-signed certificate (node:crypto cannot create X.509)' }, () => {
  let dir = '';
  let cert = '';
  let webhook: RunningWebhook | undefined;
  const logs: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'outrigger-webhook-'));
    execFileSync(OPENSSL as string, [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=outrigger-injector.outrigger-system.svc',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:outrigger-injector.outrigger-system.svc',
      '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'),
    ], { stdio: 'pipe' });
    cert = readFileSync(join(dir, 'tls.crt'), 'utf8');
    webhook = await startWebhookServer({
      tls: { cert, key: readFileSync(join(dir, 'tls.key')) },
      config,
      namespaceLabels: namespaces,
      log: createLogger('injector', { level: 'debug', format: 'json', write: (line) => logs.push(line) }),
      host: '127.0.0.1',
      port: 0,
    });
  });

  after(async () => {
    await webhook?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function call(method: string, path: string, options: { body?: string | Buffer; contentType?: string; chunks?: Buffer[] } = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      if (options.contentType !== undefined) headers['content-type'] = options.contentType;
      const req = request({ host: '127.0.0.1', port: webhook?.port, method, path, ca: cert, headers, agent: false, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('client timeout')));
      req.on('error', reject);
      if (options.chunks) {
        for (const chunk of options.chunks) req.write(chunk);
        req.end();
      } else {
        req.end(options.body);
      }
    });
  }

  it('answers POST /inject with the review the pure handler gives, over TLS verified against the test CA', async () => {
    const reply = await call('POST', '/inject', { body: review, contentType: 'application/json; charset=utf-8' });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'application/json');
    const body = JSON.parse(reply.body) as { response: { uid: string; allowed: boolean; patchType: string; patch: string } };
    assert.deepEqual(body, handleAdmissionReview(JSON.parse(review), config, namespaces));
    assert.equal(body.response.allowed, true);
    assert.equal(body.response.patchType, 'JSONPatch');
    const patch = JSON.parse(Buffer.from(body.response.patch, 'base64').toString('utf8')) as { path: string }[];
    assert.ok(patch.some((op) => op.path === '/metadata/annotations/outrigger.dev~1status'));
    const line = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'sidecar injected');
    assert.equal(line?.uid, '8d3e1f0a-4b5c-4e6f-8a7b-9c0d1e2f3a4b');
    assert.equal(line?.pod, 'catalog-7d9f8b6c4d-*');
  });

  it('GET /healthz answers 200', async () => {
    const reply = await call('GET', '/healthz');
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.body), { ok: true });
  });

  it('malformed JSON → 400 with the parser\'s message', async () => {
    const reply = await call('POST', '/inject', { body: '{"apiVersion": "admission.k8s.io/v1",', contentType: 'application/json' });
    assert.equal(reply.status, 400);
    assert.match((JSON.parse(reply.body) as { error: string }).error, /^malformed JSON: /);
  });

  it('a body over 1 MiB → 413, whether announced by Content-Length or chunked', async () => {
    const big = Buffer.alloc(MAX_REVIEW_BYTES + 1, 0x20);
    const announced = await call('POST', '/inject', { body: big, contentType: 'application/json' });
    assert.equal(announced.status, 413);
    assert.match(announced.body, /at most 1048576 bytes/);
    const chunked = await call('POST', '/inject', { chunks: [big.subarray(0, 600_000), big.subarray(600_000)], contentType: 'application/json' });
    assert.equal(chunked.status, 413);
    const exactly = await call('POST', '/inject', { body: Buffer.concat([Buffer.from(review), Buffer.alloc(MAX_REVIEW_BYTES - Buffer.byteLength(review), 0x20)]), contentType: 'application/json' });
    assert.equal(exactly.status, 200, 'exactly 1 MiB is accepted');
  });

  it('a Content-Type other than application/json → 415', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
      const reply = await call('POST', '/inject', { body: review, contentType });
      assert.equal(reply.status, 415);
      assert.match(reply.body, /Content-Type must be application\/json/);
    }
    const none = await call('POST', '/inject', { body: review });
    assert.equal(none.status, 415);
  });

  it('unknown paths → 404, wrong methods → 405 with Allow', async () => {
    assert.equal((await call('GET', '/mutate')).status, 404);
    const get = await call('GET', '/inject');
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'POST');
    assert.equal((await call('POST', '/healthz', { body: '{}', contentType: 'application/json' })).status, 405);
  });

  it('an AdmissionReview it cannot use still gets 200 and an allowed review', async () => {
    const reply = await call('POST', '/inject', { body: JSON.stringify({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'u-1' } }), contentType: 'application/json' });
    assert.equal(reply.status, 200);
    const body = JSON.parse(reply.body) as { apiVersion: string; response: { uid: string; allowed: boolean; status: { code: number } } };
    assert.equal(body.apiVersion, 'admission.k8s.io/v1beta1');
    assert.deepEqual([body.response.uid, body.response.allowed, body.response.status.code], ['u-1', true, 400]);
  });
});
