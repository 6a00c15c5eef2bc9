import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { createListener, listen } from './http-server.ts';

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a handler that throws costs one request a 500, not the process', async () => {
  const errors: unknown[] = [];
  const server = createListener(
    (req, res) => {
      if (req.url === '/boom') throw new Error('bug in a layer');
      res.end('fine');
    },
    (_req, socket) => socket.destroy(),
    (error) => errors.push(error),
  );
  const port = await listen(server, 0, '127.0.0.1');
  try {
    assert.equal(await get(port, '/boom'), 500);
    assert.equal(await get(port, '/ok'), 200, 'the listener keeps serving');
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /bug in a layer/);
  } finally {
    server.close();
  }
});

test('a port in use is a clear error naming the port', async () => {
  const first = createListener((_req, res) => res.end(), (_r, s) => s.destroy(), () => undefined);
  const port = await listen(first, 0, '127.0.0.1');
  const second = createListener((_req, res) => res.end(), (_r, s) => s.destroy(), () => undefined);
  await assert.rejects(listen(second, port, '127.0.0.1'), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
  first.close();
});
