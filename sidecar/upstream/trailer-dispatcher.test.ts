import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { after, test } from 'node:test';
import type { Dispatcher } from 'undici';
import { classifyUpstreamError } from './classify-error.ts';
import { forwardableTrailers } from '../http/headers.ts';
import { TrailerDispatcher } from './trailer-dispatcher.ts';

const SETTINGS = { connectionsPerEndpoint: 4, idleTimeoutMs: 4_000, connectTimeoutMs: 1_000 };
const servers: Server[] = [];
after(() => servers.forEach((server) => server.close()));

async function upstream(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Recorded {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  trailers: IncomingHttpHeaders | undefined;
  error: Error | undefined;
  endings: number;
}

/** Dispatches and records what the handler saw; `onStart` may act on the controller when the response starts. */
function exchange(dispatcher: TrailerDispatcher, options: Partial<Dispatcher.DispatchOptions>, onStart?: (controller: Dispatcher.DispatchController) => void): Promise<Recorded> {
  return new Promise((resolve) => {
    const seen: Recorded = { status: 0, headers: {}, body: '', trailers: undefined, error: undefined, endings: 0 };
    const settle = (): void => {
      seen.endings++;
      // Give a second ending, which must never come, the chance to show up.
      setTimeout(() => resolve(seen), 50);
    };
    dispatcher.dispatch({ method: 'POST', path: '/upload', headers: { host: 'catalog' }, ...options } as Dispatcher.DispatchOptions, {
      onResponseStart(controller, status, headers) {
        seen.status = status;
        seen.headers = headers;
        onStart?.(controller);
      },
      onResponseData(_controller, chunk) {
        seen.body += chunk.toString();
      },
      onResponseEnd(_controller, trailers) {
        seen.trailers = trailers;
        settle();
      },
      onResponseError(_controller, error) {
        seen.error = error;
        settle();
      },
    });
  });
}

function bodyWithTrailers(parts: string[], trailers: Record<string, string>): Readable {
  return Object.assign(Readable.from(parts.map((part) => Buffer.from(part))), { trailers });
}

test('a chunked body goes upstream with its trailers, and the response trailers come back', async () => {
  let received: { body: string; trailers: NodeJS.Dict<string>; headers: IncomingHttpHeaders } | undefined;
  const address = await upstream((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received = { body, trailers: req.trailers, headers: req.headers };
      res.writeHead(200, { trailer: 'x-digest' });
      res.write('ok;');
      res.addTrailers({ 'x-digest': 'sha-256=abc' });
      res.end('done');
    });
  });
  const dispatcher = new TrailerDispatcher(address, SETTINGS);
  const body = bodyWithTrailers(['part one;', 'part two'], { 'x-checksum': 'c0ffee', 'content-length': '3', host: 'evil', authorization: 'Bearer x' });
  const seen = await exchange(dispatcher, { headers: { host: 'catalog', trailer: 'x-checksum', 'content-length': '17' }, body });

  assert.equal(seen.error, undefined);
  assert.equal(seen.endings, 1);
  assert.equal(seen.status, 200);
  assert.equal(seen.body, 'ok;done');
  assert.equal(seen.trailers?.['x-digest'], 'sha-256=abc');
  assert.ok(received);
  assert.equal(received.body, 'part one;part two');
  assert.equal(received.headers['transfer-encoding'], 'chunked');
  assert.equal(received.headers['content-length'], undefined, 'a chunked body carries no Content-Length');
  assert.equal(received.headers.trailer, 'x-checksum');
  assert.equal(received.headers.host, 'catalog');
  assert.deepEqual({ ...received.trailers }, { 'x-checksum': 'c0ffee' }, 'fields a trailer may not carry are dropped');
  await dispatcher.close();
});

test('forwardableTrailers keeps ordinary fields and drops framing, routing and credentials', () => {
  assert.deepEqual(forwardableTrailers({ 'x-checksum': 'a', 'grpc-status': '0', 'transfer-encoding': 'chunked', 'content-type': 'x', cookie: 'c', trailer: 't' }), {
    'x-checksum': 'a',
    'grpc-status': '0',
  });
});

test('a refused connection ends in one error the forwarder reads as UF', async () => {
  const address = await upstream(() => undefined);
  servers.at(-1)?.close();
  const dispatcher = new TrailerDispatcher(address, SETTINGS);
  const seen = await exchange(dispatcher, { body: bodyWithTrailers(['x'], {}) });
  assert.equal(seen.endings, 1);
  assert.ok(seen.error);
  assert.equal(classifyUpstreamError(seen.error), 'UF');
  await dispatcher.close();
});

test('no response headers within headersTimeout ends the exchange as UT', async () => {
  const address = await upstream((req) => req.resume());
  const dispatcher = new TrailerDispatcher(address, SETTINGS);
  const started = performance.now();
  const seen = await exchange(dispatcher, { body: bodyWithTrailers(['x'], { 'x-checksum': '1' }), headersTimeout: 200 });
  assert.equal(classifyUpstreamError(seen.error), 'UT');
  assert.match(seen.error?.message ?? '', /no response headers within 200 ms/);
  assert.ok(performance.now() - started >= 190, 'not before the timeout');
  assert.equal(seen.endings, 1);
  await dispatcher.close();
});

test('a response body that stalls past bodyTimeout ends the exchange as UT', async () => {
  const address = await upstream((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).write('first'));
  });
  const dispatcher = new TrailerDispatcher(address, SETTINGS);
  const seen = await exchange(dispatcher, { body: bodyWithTrailers(['x'], {}), bodyTimeout: 200 });
  assert.equal(seen.body, 'first');
  assert.equal(classifyUpstreamError(seen.error), 'UT');
  assert.equal(seen.endings, 1);
  await dispatcher.close();
});

test('abort from the handler reports its reason once and closes the upstream request', async () => {
  let upstreamClosed: Promise<unknown> | undefined;
  const address = await upstream((req: IncomingMessage, res) => {
    upstreamClosed = once(res, 'close');
    req.resume();
    req.on('end', () => res.writeHead(200).write('partial'));
  });
  const dispatcher = new TrailerDispatcher(address, SETTINGS);
  const reason = new Error('client went away');
  const seen = await exchange(dispatcher, { body: bodyWithTrailers(['x'], {}) }, (controller) => controller.abort(reason));
  assert.equal(seen.error, reason);
  assert.equal(seen.endings, 1);
  assert.ok(upstreamClosed);
  await upstreamClosed;
  await dispatcher.close();
});

test('close waits for the exchange in flight to finish', async () => {
  const address = await upstream((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.end('late'), 150));
  });
  const dispatcher = new TrailerDispatcher(address, SETTINGS);
  const pending = exchange(dispatcher, { body: bodyWithTrailers(['x'], {}) });
  await new Promise((resolve) => setTimeout(resolve, 50));
  await dispatcher.close();
  const seen = await pending;
  assert.equal(seen.error, undefined, 'the exchange was not cut');
  assert.equal(seen.body, 'late');
});

test('an upstream that answers before reading the body frees its connection: the next exchange is not stuck', async () => {
  const address = await upstream((_req, res) => res.writeHead(401).end('no'));
  const dispatcher = new TrailerDispatcher(address, { ...SETTINGS, connectionsPerEndpoint: 1 });
  const slowBody = Object.assign(new PassThrough(), { trailers: {} });
  slowBody.write('first part;');
  const first = await exchange(dispatcher, { body: slowBody });
  assert.equal(first.status, 401);
  assert.equal(first.error, undefined);
  slowBody.end('rest');
  const second = await Promise.race([exchange(dispatcher, { body: bodyWithTrailers(['x'], {}) }), new Promise<undefined>((r) => setTimeout(() => r(undefined), 2_000))]);
  assert.ok(second, 'the second exchange got a connection within 2 s');
  assert.equal(second.status, 401);
  await dispatcher.close();
});

test('a failed connect leaves the body unread, so a later attempt elsewhere sends it whole', async () => {
  const dead = await upstream(() => undefined);
  servers.at(-1)?.close();
  let received: { body: string; trailers: NodeJS.Dict<string> } | undefined;
  const live = await upstream((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received = { body, trailers: req.trailers };
      res.end('ok');
    });
  });
  const body = bodyWithTrailers(['a'.repeat(70_000), 'end'], { 'x-sum': 'abc' });
  const refused = new TrailerDispatcher(dead, SETTINGS);
  const failed = await exchange(refused, { body });
  assert.equal(classifyUpstreamError(failed.error), 'UF');
  assert.equal(body.readableDidRead, false);
  const fallback = new TrailerDispatcher(live, SETTINGS);
  const seen = await exchange(fallback, { body });
  assert.equal(seen.status, 200);
  assert.equal(received?.body.length, 70_003);
  assert.equal(received?.trailers['x-sum'], 'abc');
  await refused.close();
  await fallback.close();
});

test('a body an earlier attempt already read from is refused at once', async () => {
  const address = await upstream((req, res) => req.resume().on('end', () => res.end('ok')));
  const dispatcher = new TrailerDispatcher(address, SETTINGS);
  const body = bodyWithTrailers(['one', 'two'], {});
  body.read();
  const seen = await exchange(dispatcher, { body });
  assert.match(seen.error?.message ?? '', /already read/);
  await dispatcher.close();
});

test('the body timeout does not run while the handler holds the response paused', async () => {
  const address = await upstream((req, res) => {
    req.resume();
    req.on('end', () => res.end('whole body'));
  });
  const dispatcher = new TrailerDispatcher(address, SETTINGS);
  const seen = await exchange(dispatcher, { body: bodyWithTrailers(['x'], {}), bodyTimeout: 100 }, (controller) => {
    controller.pause();
    setTimeout(() => controller.resume(), 300);
  });
  assert.equal(seen.error, undefined);
  assert.equal(seen.body, 'whole body');
  await dispatcher.close();
});

test('a handler that throws ends the exchange with that error instead of crashing', async () => {
  const address = await upstream((req, res) => req.resume().on('end', () => res.end('ok')));
  const dispatcher = new TrailerDispatcher(address, SETTINGS);
  const seen = await exchange(dispatcher, { body: bodyWithTrailers(['x'], {}) }, () => {
    throw new Error('handler bug');
  });
  assert.equal(seen.error?.message, 'handler bug');
  assert.equal(seen.endings, 1);
  await dispatcher.close();
});

