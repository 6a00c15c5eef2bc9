import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { send } from './support/client.ts';
import { endpointsYaml, startSidecarProcess, writeConfig, type SidecarProcess } from './support/sidecar-process.ts';
import { echo, startUpstream, type TestUpstream } from './support/upstream.ts';

describe('HTTPRoute routing through a real sidecar', () => {
  let app: TestUpstream;
  let v1: TestUpstream;
  let v2: TestUpstream;
  let shadow: TestUpstream;
  let sidecar: SidecarProcess;
  /** What the shadow received, by URL: the mirrored copies' bodies. */
  const shadowBodies = new Map<string, string>();

  before(async () => {
    app = await startUpstream(echo, 'app');
    v1 = await startUpstream(echo, 'v1');
    v2 = await startUpstream(echo, 'v2');
    shadow = await startUpstream((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => shadowBodies.set(req.url ?? '', Buffer.concat(chunks).toString()));
      echo(req, res);
    }, 'shadow');
    const config = writeConfig({
      'endpoints.yaml': [endpointsYaml('reviews', [v1.address]), endpointsYaml('reviews-v2', [v2.address]), endpointsYaml('reviews-shadow', [shadow.address])].join('---\n'),
      'routes.yaml': `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: reviews }
spec:
  parentRefs: [{ group: "", kind: Service, name: reviews }]
  rules:
    - matches: [{ path: { type: PathPrefix, value: /v2 } }]
      filters:
        - type: URLRewrite
          urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /api } }
      backendRefs: [{ name: reviews-v2, port: 80 }]
    - matches: [{ headers: [{ name: x-canary, value: "yes" }] }]
      backendRefs: [{ name: reviews-v2 }]
    - matches: [{ path: { type: Exact, value: /old } }]
      filters:
        - type: RequestRedirect
          requestRedirect: { path: { type: ReplaceFullPath, replaceFullPath: /new }, statusCode: 301 }
    - matches: [{ path: { type: PathPrefix, value: /split } }]
      backendRefs:
        - { name: reviews, weight: 1 }
        - { name: reviews-v2, weight: 3 }
    - matches: [{ path: { type: PathPrefix, value: /mirrored } }]
      filters:
        - type: RequestMirror
          requestMirror: { backendRef: { name: reviews-shadow } }
    - matches: [{ path: { type: PathPrefix, value: / } }]
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            set: [{ name: x-route, value: default }]
            add: [{ name: x-added, value: "1" }]
            remove: [x-remove-me]
        - type: ResponseHeaderModifier
          responseHeaderModifier:
            set: [{ name: x-response-route, value: default }]
      backendRefs: [{ name: reviews }]
`,
    });
    sidecar = await startSidecarProcess({ service: 'app', app: app.address, config });
  });

  after(async () => {
    await sidecar?.stop();
    for (const u of [app, v1, v2, shadow]) await u?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => send(sidecar.outboundPort, { path, headers: { host: 'reviews', ...headers } });

  test('path prefix routes to another Service with the prefix rewritten', async () => {
    const res = await get('/v2/items?page=2');
    assert.equal(res.headers['x-served-by'], 'v2');
    assert.equal(JSON.parse(res.body).url, '/api/items?page=2');
  });

  test('PathPrefix is element-wise: /v2x is not under /v2', async () => {
    const res = await get('/v2x');
    assert.equal(res.headers['x-served-by'], 'v1');
  });

  test('a header match selects the canary', async () => {
    assert.equal((await get('/anything', { 'x-canary': 'yes' })).headers['x-served-by'], 'v2');
    assert.equal((await get('/anything', { 'x-canary': 'no' })).headers['x-served-by'], 'v1');
  });

  test('RequestRedirect answers without going upstream', async () => {
    const before = v1.requests.length + v2.requests.length;
    const res = await get('/old?keep=1');
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, 'http://reviews/new?keep=1');
    assert.equal(v1.requests.length + v2.requests.length, before);
  });

  test('request and response header modifiers apply', async () => {
    const res = await get('/plain', { 'x-remove-me': 'gone', 'x-added': '0' });
    const seen = JSON.parse(res.body).headers;
    assert.equal(seen['x-route'], 'default');
    assert.equal(seen['x-remove-me'], undefined);
    assert.equal(seen['x-added'], '0,1');
    assert.equal(res.headers['x-response-route'], 'default');
  });

  test('weighted backendRefs split traffic about 1:3', async () => {
    let toV2 = 0;
    const n = 400;
    for (let i = 0; i < n; i++) if ((await get('/split')).headers['x-served-by'] === 'v2') toV2++;
    // binomial(400, 0.75): mean 300, sd ≈ 8.7; ±5 sd
    assert.ok(toV2 > 256 && toV2 < 344, `v2 got ${toV2} of ${n}`);
  });

  test('RequestMirror copies the request to the shadow Service with a -shadow Host', async () => {
    const res = await get('/mirrored/a');
    assert.equal(res.headers['x-served-by'], 'v1');
    for (let i = 0; i < 50 && shadow.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const copy = shadow.requests.at(-1);
    assert.ok(copy, 'the shadow received a copy');
    assert.equal(copy.url, '/mirrored/a');
    assert.equal(copy.headers.host, 'reviews-shadow');
  });

  test('RequestMirror copies a request body with a Content-Length whole; a chunked body is not copied', async () => {
    const body = JSON.stringify({ review: 'x'.repeat(5000) });
    const post = (path: string, headers: Record<string, string>) =>
      send(sidecar.outboundPort, { method: 'POST', path, headers: { host: 'reviews', 'content-type': 'application/json', ...headers }, body });
    const sized = await post('/mirrored/with-length', { 'content-length': String(Buffer.byteLength(body)) });
    assert.equal(sized.status, 200);
    assert.equal((JSON.parse(sized.body) as { bodyBytes: number }).bodyBytes, Buffer.byteLength(body), 'the original carried the whole body');
    for (let i = 0; i < 50 && !shadowBodies.has('/mirrored/with-length'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(shadowBodies.get('/mirrored/with-length'), body, 'the copy carried the same bytes');

    const chunked = await post('/mirrored/chunked', { 'transfer-encoding': 'chunked' });
    assert.equal((JSON.parse(chunked.body) as { bodyBytes: number }).bodyBytes, Buffer.byteLength(body), 'the original streamed its body');
    // The copy of the sized request arrived within ~20 ms; give a chunked copy, were one sent, ten times that.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(shadow.requests.some((r) => r.url === '/mirrored/chunked'), false, 'a chunked body is not mirrored');
  });
});
