import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { UdpTcpTransport, joinHostPort, splitHostPort } from './udp-tcp-transport.ts';
import type { UdpTcpTransportOptions } from './udp-tcp-transport.ts';
import type { TransportHandlers } from './transport.ts';

const open: UdpTcpTransport[] = [];
const rawSockets: Socket[] = [];

afterEach(async () => {
  for (const socket of rawSockets.splice(0)) socket.destroy();
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function bind(options: Partial<UdpTcpTransportOptions> = {}): Promise<UdpTcpTransport> {
  const transport = await UdpTcpTransport.bind({ host: '127.0.0.1', port: 0, ...options });
  open.push(transport);
  return transport;
}

const noHandlers: TransportHandlers = { packet: () => {}, stream: () => {} };

function request(from: UdpTcpTransport, to: string, data: Uint8Array, timeoutMs = 2000): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    from.request(to, data, timeoutMs, (error, reply) => (error ? reject(error) : resolve(reply!)));
  });
}

/** A raw TCP client on the transport's port; resolves once connected. */
async function raw(transport: UdpTcpTransport): Promise<Socket> {
  const { host, port } = splitHostPort(transport.address)!;
  const socket = connect({ host, port });
  socket.on('error', () => {});
  rawSockets.push(socket);
  await once(socket, 'connect');
  return socket;
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

const frame = (length: number, payload: Uint8Array = new Uint8Array()): Buffer => {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(length);
  return Buffer.concat([header, payload]);
};

describe('addresses', () => {
  it('splits and joins host:port, IPv6 in brackets', () => {
    assert.deepStrictEqual(splitHostPort('127.0.0.1:7946'), { host: '127.0.0.1', port: 7946 });
    assert.deepStrictEqual(splitHostPort('[::1]:7946'), { host: '::1', port: 7946 });
    assert.deepStrictEqual(splitHostPort('node-a.local:1'), { host: 'node-a.local', port: 1 });
    for (const bad of ['', '127.0.0.1', '127.0.0.1:0', 'h:65536', '::1:7946', '[nothost]:1', 'h:-1', 'h:1x']) {
      assert.equal(splitHostPort(bad), undefined, bad);
    }
    assert.equal(joinHostPort('::1', 80), '[::1]:80');
    assert.equal(joinHostPort('10.0.0.1', 80), '10.0.0.1:80');
  });
});

describe('UdpTcpTransport', () => {
  it('binds UDP and TCP on the same ephemeral port and exchanges packets', async () => {
    const a = await bind();
    const b = await bind({ advertiseHost: '127.0.0.1' });
    assert.match(a.address, /^127\.0\.0\.1:\d+$/);
    const received: [string, Uint8Array][] = [];
    a.setHandlers(noHandlers);
    b.setHandlers({ ...noHandlers, packet: (from, data) => received.push([from, data]) });
    a.sendPacket(b.address, new Uint8Array([1, 2, 3]));
    await until(() => received.length === 1);
    assert.equal(received[0]![0], a.address, 'the sender port is the transport port');
    assert.deepStrictEqual([...received[0]![1]], [1, 2, 3]);
    await until(() => a.stats.packetsSent === 1);
    assert.equal(b.stats.packetsReceived, 1);
  });

  it('refuses a port whose number is taken', async () => {
    const a = await bind();
    const port = Number(splitHostPort(a.address)!.port);
    await assert.rejects(UdpTcpTransport.bind({ host: '127.0.0.1', port }), { code: 'EADDRINUSE' });
  });

  it('drops oversized datagrams silently and reports bad addresses', async () => {
    const errors: Error[] = [];
    const a = await bind({ onError: (e) => errors.push(e) });
    a.sendPacket(a.address, new Uint8Array(65_508));
    assert.equal(a.stats.packetsDropped, 1);
    assert.equal(errors.length, 0);
    a.sendPacket('nowhere', new Uint8Array(1));
    assert.equal(errors.length, 1);
    assert.equal(a.stats.errors, 1);
  });

  it('contains a handler that throws', async () => {
    const errors: Error[] = [];
    const b = await bind({ onError: (e) => errors.push(e) });
    b.setHandlers({ packet: () => { throw new Error('boom'); }, stream: () => { throw new Error('bang'); } });
    const a = await bind();
    a.sendPacket(b.address, new Uint8Array([1]));
    await until(() => errors.length === 1);
    await assert.rejects(request(a, b.address, new Uint8Array([1]), 5000), /closed before the reply/);
    assert.deepStrictEqual(errors.map((e) => e.message), ['boom', 'bang']);
    assert.equal(b.stats.errors, 2);
  });

  it('answers a stream request', async () => {
    const a = await bind();
    const b = await bind();
    let seenFrom = '';
    b.setHandlers({ ...noHandlers, stream: (from, data, reply) => { seenFrom = from; reply(new Uint8Array([...data].reverse())); } });
    assert.deepStrictEqual([...(await request(a, b.address, new Uint8Array([1, 2, 3])))], [3, 2, 1]);
    assert.match(seenFrom, /^127\.0\.0\.1:\d+$/);
    assert.deepStrictEqual([...(await request(a, b.address, new Uint8Array()))], []);
    assert.equal(b.stats.streamsAccepted, 2);
  });

  it('carries a 5 MiB reply', async () => {
    const a = await bind();
    const b = await bind();
    const big = new Uint8Array(5 * 1024 * 1024).map((_, i) => i % 251);
    b.setHandlers({ ...noHandlers, stream: (_from, data, reply) => reply(data.length === 1 ? big : new Uint8Array()) });
    const reply = await request(a, b.address, new Uint8Array([0]), 10_000);
    assert.equal(reply.length, big.length);
    assert.ok(Buffer.from(reply).equals(big));
  });

  it('times out once when the handler never replies, and a late reply is a no-op', async () => {
    const errors: Error[] = [];
    const a = await bind();
    const b = await bind({ onError: (e) => errors.push(e) });
    let lateReply: ((data: Uint8Array) => void) | undefined;
    b.setHandlers({ ...noHandlers, stream: (_from, _data, reply) => { lateReply = reply; } });
    const calls: (Error | undefined)[] = [];
    const started = Date.now();
    a.request(b.address, new Uint8Array([1]), 150, (error) => calls.push(error));
    await until(() => calls.length === 1);
    assert.match(calls[0]!.message, /timed out after 150 ms/);
    assert.ok(Date.now() - started >= 140);
    await sleep(200);
    assert.equal(calls.length, 1);
    lateReply!(new Uint8Array([1]));
    lateReply!(new Uint8Array([2]));
    assert.equal(errors.length, 0);
  });

  it('ignores a second reply', async () => {
    const a = await bind();
    const b = await bind();
    b.setHandlers({ ...noHandlers, stream: (_from, _data, reply) => { reply(new Uint8Array([1])); reply(new Uint8Array([2])); } });
    assert.deepStrictEqual([...(await request(a, b.address, new Uint8Array()))], [1]);
  });

  it('fails a request to a closed port, to a malformed address, and after close', async () => {
    const a = await bind();
    const gone = await bind();
    const goneAddress = gone.address;
    await gone.close();
    await assert.rejects(request(a, goneAddress, new Uint8Array([1])), /ECONNREFUSED/);
    await assert.rejects(request(a, 'no-port', new Uint8Array([1])), /malformed address/);
    await a.close();
    await assert.rejects(request(a, goneAddress, new Uint8Array([1])), /transport is closed/);
  });

  it('rejects an oversized frame in either direction', async () => {
    const a = await bind({ maxFrameBytes: 1024 });
    const b = await bind({ maxFrameBytes: 1024 });
    b.setHandlers({ ...noHandlers, stream: (_from, data, reply) => reply(new Uint8Array(data[0] === 1 ? 1024 : 10)) });
    const big = await bind();
    await assert.rejects(request(big, b.address, new Uint8Array(1025)), /closed before the reply|ECONNRESET/);
    assert.equal(b.stats.frameErrors, 1);
    await assert.rejects(request(a, b.address, new Uint8Array(1025)), /exceeds 1024/);
    assert.equal((await request(a, b.address, new Uint8Array([1]))).length, 1024);

    const socket = await raw(b);
    socket.write(frame(0xffff_ffff));
    await once(socket, 'close');
    assert.equal(b.stats.frameErrors, 2);

    const c = await bind();
    c.setHandlers({ ...noHandlers, stream: (_from, _data, reply) => reply(new Uint8Array(2048)) });
    await assert.rejects(request(a, c.address, new Uint8Array([1])), /frame of 2048 bytes exceeds 1024/);
  });

  it('survives garbage and truncated frames on the TCP port', async () => {
    const a = await bind();
    const b = await bind();
    b.setHandlers({ ...noHandlers, stream: (_from, data, reply) => reply(data) });
    const truncated = await raw(b);
    truncated.end(frame(100, new Uint8Array(10)));
    await once(truncated, 'close');
    const trailing = await raw(b);
    trailing.write(Buffer.concat([frame(1, new Uint8Array([7])), Buffer.from('garbage')]));
    await once(trailing, 'close');
    const noise = await raw(b);
    noise.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await once(noise, 'close');
    const tiny = await raw(b);
    tiny.end(Buffer.from([0]));
    await once(tiny, 'close');
    await until(() => b.stats.frameErrors === 4);
    assert.deepStrictEqual([...(await request(a, b.address, new Uint8Array([4, 5])))], [4, 5]);
  });

  it('closes a slow client at the stream deadline', async () => {
    const b = await bind({ streamTimeoutMs: 150 });
    b.setHandlers(noHandlers);
    const started = Date.now();
    const socket = await raw(b);
    socket.write(Buffer.from([0, 0]));
    await once(socket, 'close');
    assert.ok(Date.now() - started >= 140, 'held until the deadline');
  });

  it('caps concurrent inbound streams', async () => {
    const b = await bind({ maxInboundStreams: 2 });
    b.setHandlers(noHandlers);
    const first = await raw(b);
    await raw(b);
    await until(() => b.stats.streamsAccepted === 2);
    const third = await raw(b);
    await once(third, 'close');
    assert.equal(b.stats.streamsRejected, 1);
    first.destroy();
    await sleep(50);
    await raw(b);
    await until(() => b.stats.streamsAccepted === 3);
  });

  it('fails pending requests on close, resolves close once, and stops delivering', async () => {
    const a = await bind();
    const b = await bind();
    b.setHandlers(noHandlers);
    const received: Uint8Array[] = [];
    a.setHandlers({ ...noHandlers, packet: (_from, data) => received.push(data) });
    const pending = request(a, b.address, new Uint8Array([1]), 5000);
    await until(() => b.stats.streamsAccepted === 1);
    const closing = a.close();
    assert.equal(a.close(), closing);
    await assert.rejects(pending, /transport closed/);
    await closing;
    a.sendPacket(b.address, new Uint8Array([1]));
    assert.equal(a.stats.packetsSent, 0);
  });

  it('accepts UDP from a plain socket', async () => {
    const b = await bind();
    const received: string[] = [];
    b.setHandlers({ ...noHandlers, packet: (from) => received.push(from) });
    const udp = createSocket('udp4');
    const { port } = splitHostPort(b.address)!;
    await new Promise<void>((resolve) => udp.send(new Uint8Array([9]), port, '127.0.0.1', () => resolve()));
    await until(() => received.length === 1);
    await new Promise<void>((resolve) => udp.close(resolve));
  });

  it('leaves no handles behind after close', async () => {
    // Each close() must end its own connections: b holds an inbound stream from a; c an outbound one to a silent,
    // unref'd server that would never close it.
    const script = `
      import { createServer } from 'node:net';
      import { UdpTcpTransport } from ${JSON.stringify(new URL('./udp-tcp-transport.ts', import.meta.url).href)};
      const bind = () => UdpTcpTransport.bind({ host: '127.0.0.1', port: 0 });
      const [a, b, c] = [await bind(), await bind(), await bind()];
      const handlers = { packet: () => {}, stream: (_f, d, reply) => { if (d[0] === 1) reply(d); } };
      for (const t of [a, b, c]) t.setHandlers(handlers);
      const silent = createServer((socket) => socket.unref()).unref();
      await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
      a.sendPacket(b.address, new Uint8Array([1]));
      await new Promise((resolve) => a.request(b.address, new Uint8Array([1]), 2000, resolve));
      a.request(b.address, new Uint8Array([2]), 60000, () => {});
      c.request('127.0.0.1:' + silent.address().port, new Uint8Array([2]), 60000, () => {});
      await new Promise((resolve) => setTimeout(resolve, 100));
      await b.close();
      await c.close();
      await a.close();
      console.log('closed');
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
    assert.equal(stdout.trim(), 'closed');
  });
});
