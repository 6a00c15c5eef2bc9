import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { send, sendWithTrailers } from './support/client.ts';
import { endpointsYaml, startSidecarProcess, writeConfig, type SidecarProcess } from './support/sidecar-process.ts';
import { echo, startUpstream, type TestUpstream } from './support/upstream.ts';

/** HTTP/1.1 proxying correctness through a real sidecar process to real upstream servers. */
describe('sidecar proxies HTTP/1.1 correctly', () => {
  let app: TestUpstream;
  let catalog: TestUpstream;
  let sidecar: SidecarProcess;

  before(async () => {
    app = await startUpstream(echo, 'app');
    catalog = await startUpstream((req, res) => {
      if (req.url === '/trailers') {
        res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
        res.write('part one;');
        res.addTrailers({ 'x-checksum': 'abc123', 'content-type': 'text/html' });
        res.end('part two');
        return;
      }
      if (req.url === '/echo-trailers') {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ body, trailers: req.trailers, trailer: req.headers.trailer ?? null }));
        });
        return;
      }
      if (req.url === '/upload-stall') {
        req.resume();
        req.on('close', () => {
          if (!req.complete) catalog.server.emit('upload-closed');
        });
        return;
      }
      if (req.url === '/stream') {
        // echo the request body back as it arrives, chunk by chunk
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        req.pipe(res);
        return;
      }
      if (req.url === '/slow') {
        res.on('close', () => {
          if (!res.writableFinished) catalog.server.emit('slow-request-closed');
        });
        setTimeout(() => res.end('late'), 3_000).unref();
        return;
      }
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'content-length': '1234', 'content-type': 'text/plain' });
        res.end();
        return;
      }
      echo(req, res);
    }, 'catalog');
    catalog.server.on('upgrade', (req, socket) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${req.headers.upgrade}\r\nconnection: Upgrade\r\nx-upgraded-path: ${req.url}\r\n\r\n`);
      socket.on('data', (data: Buffer) => socket.write(`echo:${data.toString()}`));
    });
    const config = writeConfig({ 'endpoints.yaml': endpointsYaml('catalog', [catalog.address]) });
    sidecar = await startSidecarProcess({ service: 'app', app: app.address, config });
  });

  after(async () => {
    await sidecar?.stop();
    await app?.close();
    await catalog?.close();
  });

  test('outbound routes by Host: bare name, name:port and cluster FQDN', async () => {
    for (const host of ['catalog', 'catalog:8080', 'catalog.default.svc.cluster.local', 'catalog.default.svc.cluster.local:80']) {
      const res = await send(sidecar.outboundPort, { path: '/items?x=1', headers: { host } });
      assert.equal(res.status, 200, host);
      assert.equal(res.headers['x-served-by'], 'catalog');
      assert.equal(JSON.parse(res.body).url, '/items?x=1');
    }
  });

  test('absolute-form requests work, as an app with HTTP_PROXY sends them', async () => {
    const res = await send(sidecar.outboundPort, { path: 'http://catalog:9000/proxied?q=2', headers: { host: 'ignored-by-absolute-form' } });
    assert.equal(res.status, 200);
    const seen = JSON.parse(res.body);
    assert.equal(seen.url, '/proxied?q=2');
    assert.equal(seen.headers.host, 'catalog:9000');
  });

  test('inbound forwards to the local app', async () => {
    const res = await send(sidecar.inboundPort, { path: '/hello', headers: { host: 'app' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-served-by'], 'app');
  });

  test('hop-by-hop headers and those named in Connection are removed; forwarding headers are set', async () => {
    const res = await send(sidecar.outboundPort, {
      path: '/h',
      headers: { host: 'catalog', connection: 'keep-alive, x-secret-hop', 'x-secret-hop': '1', 'keep-alive': 'timeout=5', 'proxy-connection': 'keep-alive', 'proxy-authorization': 'Basic eA==', 'x-end-to-end': 'kept' },
    });
    const seen = JSON.parse(res.body).headers as Record<string, string>;
    assert.equal(seen['x-secret-hop'], undefined);
    assert.equal(seen['keep-alive'], undefined);
    assert.equal(seen['proxy-connection'], undefined);
    assert.equal(seen['proxy-authorization'], undefined);
    assert.equal(seen['x-end-to-end'], 'kept');
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.match(seen['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
  });

  test('an incoming x-request-id is passed on unchanged', async () => {
    const res = await send(sidecar.outboundPort, { path: '/', headers: { host: 'catalog', 'x-request-id': 'req-42' } });
    assert.equal(JSON.parse(res.body).headers['x-request-id'], 'req-42');
  });

  test('a chunked request body streams through and comes back intact', async () => {
    const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(16 * 1024, i));
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const received = await new Promise<Buffer>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: sidecar.outboundPort, method: 'POST', path: '/stream', headers: { host: 'catalog', 'transfer-encoding': 'chunked' }, agent: false }, (res) => {
        const got: Buffer[] = [];
        res.on('data', (c: Buffer) => got.push(c));
        res.on('end', () => resolve(Buffer.concat(got)));
      });
      req.on('error', reject);
      let i = 0;
      const writeNext = (): void => {
        while (i < chunks.length) {
          if (!req.write(chunks[i++])) {
            req.once('drain', writeNext);
            return;
          }
        }
        req.end();
      };
      writeNext();
    });
    assert.equal(received.length, total);
    assert.ok(received.equals(Buffer.concat(chunks)));
  });

  test('Expect: 100-continue gets an interim 100 and the body is delivered', async () => {
    const result = await new Promise<{ gotContinue: boolean; status: number; body: string }>((resolve, reject) => {
      let gotContinue = false;
      const req = request({ host: '127.0.0.1', port: sidecar.outboundPort, method: 'PUT', path: '/upload', headers: { host: 'catalog', expect: '100-continue', 'content-length': '5' }, agent: false });
      req.on('continue', () => {
        gotContinue = true;
        req.end('hello');
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ gotContinue, status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });
    assert.ok(result.gotContinue);
    assert.equal(result.status, 200);
    const seen = JSON.parse(result.body);
    assert.equal(seen.bodyBytes, 5);
    assert.equal(seen.headers.expect, undefined);
  });

  test('HEAD keeps Content-Length and carries no body', async () => {
    const res = await send(sidecar.outboundPort, { method: 'HEAD', path: '/', headers: { host: 'catalog' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], '1234');
    assert.equal(res.body, '');
  });

  test('response trailers reach the client', async () => {
    const res = await send(sidecar.outboundPort, { path: '/trailers', headers: { host: 'catalog', te: 'trailers' } });
    assert.equal(res.body, 'part one;part two');
    assert.equal(res.trailers['x-checksum'], 'abc123');
    assert.equal(res.trailers['content-type'], undefined, 'a trailer may not carry Content-Type: dropped');
  });

  test('request trailers reach the upstream when the request announces them', async () => {
    const seen = JSON.parse((await sendWithTrailers(sidecar.outboundPort, { host: 'catalog', path: '/echo-trailers', trailers: { 'x-checksum': 'c0ffee', authorization: 'Bearer leaked' }, announce: 'x-checksum' })).body) as {
      body: string;
      trailers: Record<string, string>;
      trailer: string | null;
    };
    assert.equal(seen.body, 'part one;part two');
    assert.deepEqual(seen.trailers, { 'x-checksum': 'c0ffee' }, 'credentials may not ride in a trailer: dropped');
    assert.equal(seen.trailer, 'x-checksum');
  });

  test('unannounced request trailers are dropped and the body still arrives whole', async () => {
    const seen = JSON.parse((await sendWithTrailers(sidecar.outboundPort, { host: 'catalog', path: '/echo-trailers', trailers: { 'x-checksum': 'c0ffee' } })).body) as { body: string; trailers: Record<string, string> };
    assert.equal(seen.body, 'part one;part two');
    assert.deepEqual(seen.trailers, {});
  });

  test('WebSocket-style Upgrade works end to end', async () => {
    const reply = await new Promise<{ status: number; path: string | undefined; echoed: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: sidecar.outboundPort, path: '/ws?room=1', headers: { host: 'catalog', connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }, agent: false });
      req.on('upgrade', (res, socket) => {
        socket.write('ping');
        socket.once('data', (data: Buffer) => {
          resolve({ status: res.statusCode ?? 0, path: res.headers['x-upgraded-path'] as string | undefined, echoed: data.toString() });
          socket.destroy();
        });
      });
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
    assert.equal(reply.status, 101);
    assert.equal(reply.path, '/ws?room=1');
    assert.equal(reply.echoed, 'echo:ping');
  });

  test('a client that disconnects mid-request cancels the upstream request', async () => {
    const upstreamClosed = new Promise<void>((resolve) => catalog.server.once('slow-request-closed', resolve));
    const req = request({ host: '127.0.0.1', port: sidecar.outboundPort, path: '/slow', headers: { host: 'catalog' }, agent: false });
    req.on('error', () => undefined);
    req.end();
    await new Promise((r) => setTimeout(r, 300));
    req.destroy();
    const cancelled = await Promise.race([upstreamClosed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2_000))]);
    assert.ok(cancelled, 'upstream saw its request closed within 2 s of the client leaving');
  });

  test('a client that leaves mid-upload cancels the upstream request on the trailer path too', async () => {
    const upstreamClosed = new Promise<void>((resolve) => catalog.server.once('upload-closed', resolve));
    const headers = { host: 'catalog', 'transfer-encoding': 'chunked', trailer: 'x-checksum' };
    const req = request({ host: '127.0.0.1', port: sidecar.outboundPort, method: 'POST', path: '/upload-stall', headers, agent: false });
    req.on('error', () => undefined);
    req.write('part one;');
    await new Promise((r) => setTimeout(r, 300));
    req.destroy();
    const cancelled = await Promise.race([upstreamClosed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2_000))]);
    assert.ok(cancelled, 'upstream saw its half-sent request closed within 2 s of the client leaving');
  });
});
