import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { waitReadyCommand } from './wait-ready.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) }, out, err };
}

/** A readiness endpoint on loopback that answers 503 `notReadyFor` times, then 200. */
async function readiness(notReadyFor: number): Promise<{ server: Server; url: string; asked: () => number }> {
  let asked = 0;
  const server = createServer((_req, res) => {
    asked++;
    res.writeHead(asked > notReadyFor ? 200 : 503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ready`, asked: () => asked };
}

describe('outrigger wait-ready', () => {
  it('asks until the endpoint answers 200, then exits 0', async () => {
    const endpoint = await readiness(3);
    try {
      const { io, out } = capture();
      assert.equal(await waitReadyCommand.run(['--url', endpoint.url, '--timeout', '10'], io), 0);
      assert.equal(endpoint.asked(), 4);
      assert.match(out[0] ?? '', /^ready after \d+ ms$/);
    } finally {
      endpoint.server.close();
    }
  });

  it('exits 1 at the timeout and says what the endpoint last answered', async () => {
    const endpoint = await readiness(Number.POSITIVE_INFINITY);
    try {
      const { io, err } = capture();
      assert.equal(await waitReadyCommand.run(['--url', endpoint.url, '--timeout', '0.5'], io), 1);
      assert.ok(endpoint.asked() >= 2, `asked ${endpoint.asked()} times`);
      assert.match(err[0] ?? '', /not ready after 0\.5 s \(last: answered 503\)/);
    } finally {
      endpoint.server.close();
    }
  });

  it('names the connection error when nothing listens', async () => {
    const endpoint = await readiness(0);
    const { url } = endpoint;
    await new Promise<void>((resolve) => endpoint.server.close(() => resolve()));
    const { io, err } = capture();
    assert.equal(await waitReadyCommand.run(['--url', url, '--timeout', '0.3'], io), 1);
    assert.match(err[0] ?? '', /ECONNREFUSED/);
  });

  it('refuses a bad timeout or URL with a usage error', async () => {
    for (const args of [['--timeout', '0'], ['--timeout', 'soon'], ['--url', 'localhost:15000/ready']]) {
      const { io, err } = capture();
      assert.equal(await waitReadyCommand.run(args, io), 2, args.join(' '));
      assert.match(err[0] ?? '', /outrigger wait-ready: --(timeout|url) must/);
    }
  });
});
