import assert from 'node:assert/strict';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { test } from 'node:test';
import { checkRequest, closeRequested } from './request-checks.ts';
import { splitTarget } from './request-entry.ts';

/** An IncomingMessage as Node's parser would leave it: raw header lines, and the folded object. */
function request(version: '1.0' | '1.1', rawHeaders: string[]): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.httpVersion = version;
  req.httpVersionMajor = 1;
  req.httpVersionMinor = version === '1.0' ? 0 : 1;
  req.rawHeaders = rawHeaders;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (name === '__proto__') continue; // what Node's plain-object assignment loses
    const previous = req.headers[name];
    req.headers[name] = previous === undefined ? rawHeaders[i + 1] : `${String(previous)}, ${rawHeaders[i + 1]}`;
  }
  return req;
}

test('a __proto__ field, which a plain header object cannot hold, is put back as an own property', () => {
  const req = request('1.1', ['Host', 'app', '__proto__', 'x', '__PROTO__', 'y']);
  assert.equal(checkRequest(req, 100), undefined);
  assert.equal(Object.getOwnPropertyDescriptor(req.headers, '__proto__')?.value, 'x, y');
  assert.ok(Object.keys(req.headers).includes('__proto__'), 'enumerable, so it is forwarded');
  assert.equal(Object.getPrototypeOf(req.headers), Object.getPrototypeOf(request('1.1', ['Host', 'app']).headers), 'the prototype is untouched');
});

test('more header fields than the limit are refused with 431, the limit itself is not', () => {
  const fields = (n: number): string[] => ['Host', 'app', ...Array.from({ length: n - 1 }, (_, i) => [`x-${i}`, '1']).flat()];
  assert.equal(checkRequest(request('1.1', fields(100)), 100), undefined);
  assert.equal(checkRequest(request('1.1', fields(101)), 100)?.status, 431);
});

test('HTTP/1.0 "Connection: close, keep-alive" closes; keep-alive alone and HTTP/1.1 are left to llhttp', () => {
  assert.equal(closeRequested(request('1.0', ['Connection', 'close, keep-alive'])), true);
  assert.equal(closeRequested(request('1.0', ['Connection', 'keep-alive , Close'])), true);
  assert.equal(closeRequested(request('1.0', ['Connection', 'keep-alive'])), false);
  assert.equal(closeRequested(request('1.0', ['Connection', 'closed, keep-alive'])), false);
  assert.equal(closeRequested(request('1.1', ['Connection', 'close, keep-alive'])), false);
});

test('request targets: a fragment is refused, an empty query keeps its "?"', () => {
  assert.equal(splitTarget('/admin#x'), undefined);
  assert.equal(splitTarget('http://app/a#b'), undefined);
  assert.deepEqual(splitTarget('/?'), { authority: undefined, path: '/', query: '', hasQuery: true });
  assert.deepEqual(splitTarget('/a'), { authority: undefined, path: '/a', query: '', hasQuery: false });
  assert.deepEqual(splitTarget('http://app:8080?x=1'), { authority: 'app:8080', path: '/', query: 'x=1', hasQuery: true });
});
