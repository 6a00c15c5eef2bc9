import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { send } from './support/client.ts';
import { rejectedCount } from './support/metrics-scrape.ts';
import { sendRaw, startRawUpstream, type RawUpstream } from './support/raw-socket.ts';
import { endpointsYaml, startSidecarProcess, writeConfig, type SidecarProcess } from './support/sidecar-process.ts';
import { startUpstream, type TestUpstream } from './support/upstream.ts';

/**
 * Malformed and hostile HTTP/1.1 requests, sent as raw bytes to a real sidecar's inbound and outbound listeners.
 * Every case must be refused with the documented status and `Connection: close` (or a closed connection), count in
 * `outrigger_downstream_rejected_total`, leave the sidecar healthy, and send NOTHING to the upstream (a raw TCP
 * server recording every byte). docs/malformed-requests.md summarises this table.
 */

const H = 'Host: raw\r\n';
const POST = `POST / HTTP/1.1\r\n${H}`;
const CHUNKED = `${POST}Transfer-Encoding: chunked\r\n\r\n`;

type Listener = 'inbound' | 'outbound';
type Reason = 'bad_request' | 'header_too_large' | 'bad_version' | 'bad_host' | 'bad_target' | 'connect';

interface Case {
  name: string;
  /** Raw request bytes; an array is sent as separate writes, 20 ms apart. */
  bytes: string | string[];
  status: number;
  /** The `reason` label counted; 400s from Node's parser are `bad_request`. */
  reason: Reason;
}

// prettier-ignore
export const CORPUS: Case[] = [
  // Content-Length / Transfer-Encoding framing (request smuggling)
  { name: 'Content-Length with Transfer-Encoding',     bytes: `${POST}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'CL+TE split across writes',                 bytes: [`${POST}Content-Length: 5\r\n`, 'Transfer-Encoding: chunked\r\n\r\n', '0\r\n\r\n'], status: 400, reason: 'bad_request' },
  { name: 'Content-Length list "5, 5"',                bytes: `${POST}Content-Length: 5, 5\r\n\r\nhello`, status: 400, reason: 'bad_request' },
  { name: 'two Content-Length headers, same value',    bytes: `${POST}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, status: 400, reason: 'bad_request' },
  { name: 'two Content-Length headers, different',     bytes: `${POST}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, status: 400, reason: 'bad_request' },
  { name: 'Content-Length "+1"',                       bytes: `${POST}Content-Length: +1\r\n\r\nx`, status: 400, reason: 'bad_request' },
  { name: 'Content-Length "-1"',                       bytes: `${POST}Content-Length: -1\r\n\r\nx`, status: 400, reason: 'bad_request' },
  { name: 'Content-Length "0x10"',                     bytes: `${POST}Content-Length: 0x10\r\n\r\nx`, status: 400, reason: 'bad_request' },
  { name: 'Content-Length "1 2"',                      bytes: `${POST}Content-Length: 1 2\r\n\r\nx`, status: 400, reason: 'bad_request' },
  { name: 'Content-Length empty',                      bytes: `${POST}Content-Length: \r\n\r\nx`, status: 400, reason: 'bad_request' },
  { name: 'Content-Length beyond 2^64',                bytes: `${POST}Content-Length: 99999999999999999999999\r\n\r\nx`, status: 400, reason: 'bad_request' },
  { name: 'Transfer-Encoding "chunked, identity"',     bytes: `${POST}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'Transfer-Encoding "identity"',              bytes: `${POST}Transfer-Encoding: identity\r\n\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'Transfer-Encoding "gzip"',                  bytes: `${POST}Transfer-Encoding: gzip\r\n\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'Transfer-Encoding "xchunked"',              bytes: `${POST}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'Transfer-Encoding "chunked\\t"',            bytes: `${POST}Transfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'Transfer-Encoding "chunked, chunked"',      bytes: `${POST}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'two Transfer-Encoding headers',             bytes: `${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'Transfer-Encoding in HTTP/1.0',             bytes: `POST / HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'Transfer-Encoding head, then body write',   bytes: [`${POST}Transfer-Encoding: gzip\r\n\r\n`, '0\r\n\r\n'], status: 400, reason: 'bad_request' },
  // Header syntax
  { name: 'whitespace before colon',                   bytes: `GET / HTTP/1.1\r\n${H}X-Foo : bar\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: '"Transfer-Encoding :" (smuggling)',         bytes: `${POST}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'obs-fold continuation line',                bytes: `GET / HTTP/1.1\r\n${H}X-Foo: a\r\n b\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'obs-fold as first header line',             bytes: `GET / HTTP/1.1\r\n X-Foo: a\r\n${H}\r\n`, status: 400, reason: 'bad_request' },
  { name: 'bare LF line endings',                      bytes: 'GET / HTTP/1.1\nHost: raw\n\n', status: 400, reason: 'bad_request' },
  { name: 'bare LF inside the header block',           bytes: `GET / HTTP/1.1\r\n${H}X-A: 1\nX-B: 2\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'lone CR after request line',                bytes: `GET / HTTP/1.1\r${H}\r\n`, status: 400, reason: 'bad_request' },
  { name: 'lone CR inside a value',                    bytes: `GET / HTTP/1.1\r\n${H}X-A: 1\r2\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'NUL in a header name',                      bytes: `GET / HTTP/1.1\r\n${H}X-\0A: 1\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'NUL in a header value',                     bytes: `GET / HTTP/1.1\r\n${H}X-A: 1\x002\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'control byte 0x01 in a value',              bytes: `GET / HTTP/1.1\r\n${H}X-A: 1\x012\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'DEL 0x7f in a value',                       bytes: `GET / HTTP/1.1\r\n${H}X-A: 1\x7f2\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'control byte in a header name',             bytes: `GET / HTTP/1.1\r\n${H}X-\x01A: 1\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'space inside a header name',                bytes: `GET / HTTP/1.1\r\n${H}X A: 1\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'empty header name',                         bytes: `GET / HTTP/1.1\r\n${H}: 1\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'header line without colon',                 bytes: `GET / HTTP/1.1\r\n${H}XA\r\n\r\n`, status: 400, reason: 'bad_request' },
  // Chunked bodies (in the same packet as the head: refused before the head is proxied)
  { name: 'chunk size not hex',                        bytes: `${CHUNKED}zz\r\nhello\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'chunk size "0x5"',                          bytes: `${CHUNKED}0x5\r\nhello\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'chunk size "-5"',                           bytes: `${CHUNKED}-5\r\nhello\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'chunk size overflows 64 bits',              bytes: `${CHUNKED}FFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'chunk size with trailing space',            bytes: `${CHUNKED}5 \r\nhello\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'chunk size line with bare LF',              bytes: `${CHUNKED}5\nhello\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'empty chunk extension "5;"',                bytes: `${CHUNKED}5;\r\nhello\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'chunk extension with bare LF',              bytes: `${CHUNKED}5;a\nb\r\nhello\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'chunk extension with control byte',         bytes: `${CHUNKED}5;a\x01\r\nhello\r\n0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'chunk data without CRLF',                   bytes: `${CHUNKED}5\r\nhelloXX0\r\n\r\n`, status: 400, reason: 'bad_request' },
  { name: 'head, then bad chunk size in a later write', bytes: [CHUNKED, 'zz\r\nhello\r\n0\r\n\r\n'], status: 400, reason: 'bad_request' },
  // Size limits
  { name: 'header block > 16 KiB',                     bytes: `GET / HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(17_000)}\r\n\r\n`, status: 431, reason: 'header_too_large' },
  { name: '3000 small headers',                        bytes: `GET / HTTP/1.1\r\n${H}${Array.from({ length: 3_000 }, (_, i) => `X-${i}: 1\r\n`).join('')}\r\n`, status: 431, reason: 'header_too_large' },
  { name: '101 header fields (limit 100)',             bytes: `GET / HTTP/1.1\r\n${H}${Array.from({ length: 100 }, (_, i) => `X-${i}: 1\r\n`).join('')}\r\n`, status: 431, reason: 'header_too_large' },
  { name: '20 KB URI (431, not 414: counts to the head)', bytes: `GET /${'a'.repeat(20_000)} HTTP/1.1\r\n${H}\r\n`, status: 431, reason: 'header_too_large' },
  // Request line
  { name: 'HTTP/2.0 in a request line',                bytes: `GET / HTTP/2.0\r\n${H}\r\n`, status: 505, reason: 'bad_version' },
  { name: 'HTTP/0.9-style "GET /"',                    bytes: 'GET /\r\n\r\n', status: 505, reason: 'bad_version' },
  { name: 'HTTP/1.2',                                  bytes: `GET / HTTP/1.2\r\n${H}\r\n`, status: 400, reason: 'bad_request' },
  { name: 'HTTP/3.0',                                  bytes: `GET / HTTP/3.0\r\n${H}\r\n`, status: 400, reason: 'bad_request' },
  { name: 'lower-case "http/1.1"',                     bytes: `GET / http/1.1\r\n${H}\r\n`, status: 400, reason: 'bad_request' },
  { name: 'no version',                                bytes: `GET / \r\n${H}\r\n`, status: 400, reason: 'bad_request' },
  { name: 'tab as separator',                          bytes: `GET\t/ HTTP/1.1\r\n${H}\r\n`, status: 400, reason: 'bad_request' },
  { name: 'lower-case method',                         bytes: `get / HTTP/1.1\r\n${H}\r\n`, status: 400, reason: 'bad_request' },
  { name: 'unknown method',                            bytes: `FOO / HTTP/1.1\r\n${H}\r\n`, status: 400, reason: 'bad_request' },
  { name: 'control byte in method',                    bytes: `G\x01T / HTTP/1.1\r\n${H}\r\n`, status: 400, reason: 'bad_request' },
  { name: 'HTTP/2 prior-knowledge preface',            bytes: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', status: 400, reason: 'bad_request' },
  { name: 'space inside the URI',                      bytes: `GET /a b HTTP/1.1\r\n${H}\r\n`, status: 400, reason: 'bad_request' },
  { name: 'control byte inside the URI',               bytes: `GET /a\x01b HTTP/1.1\r\n${H}\r\n`, status: 400, reason: 'bad_request' },
  { name: 'authority-form target with GET',            bytes: `GET raw:80 HTTP/1.1\r\n${H}\r\n`, status: 400, reason: 'bad_request' },
  { name: 'asterisk-form target with GET',             bytes: `GET * HTTP/1.1\r\n${H}\r\n`, status: 400, reason: 'bad_target' },
  { name: 'absolute-form with userinfo',               bytes: `GET http://u@raw/ HTTP/1.1\r\n${H}\r\n`, status: 400, reason: 'bad_target' },
  // Host
  { name: 'missing Host (HTTP/1.1)',                   bytes: 'GET / HTTP/1.1\r\n\r\n', status: 400, reason: 'bad_host' },
  { name: 'two Host headers',                          bytes: 'GET / HTTP/1.1\r\nHost: raw\r\nHost: evil\r\n\r\n', status: 400, reason: 'bad_host' },
  { name: 'empty Host',                                bytes: 'GET / HTTP/1.1\r\nHost: \r\n\r\n', status: 400, reason: 'bad_host' },
  { name: 'Host with a space',                         bytes: 'GET / HTTP/1.1\r\nHost: raw evil\r\n\r\n', status: 400, reason: 'bad_host' },
  { name: 'Host with userinfo',                        bytes: 'GET / HTTP/1.1\r\nHost: u@raw\r\n\r\n', status: 400, reason: 'bad_host' },
  { name: 'Host list "raw, evil"',                     bytes: 'GET / HTTP/1.1\r\nHost: raw, evil\r\n\r\n', status: 400, reason: 'bad_host' },
  // CONNECT
  { name: 'CONNECT host:port',                         bytes: 'CONNECT raw:443 HTTP/1.1\r\nHost: raw:443\r\n\r\n', status: 501, reason: 'connect' },
  { name: 'CONNECT with origin-form target',           bytes: `CONNECT / HTTP/1.1\r\n${H}\r\n`, status: 501, reason: 'connect' },
  { name: 'CONNECT then tunnel bytes',                 bytes: ['CONNECT raw:80 HTTP/1.1\r\nHost: raw:80\r\n\r\n', `GET /tunnelled HTTP/1.1\r\n${H}\r\n`], status: 501, reason: 'connect' },
  // Pipelining after a rejected request
  { name: 'pipelined request after a bad one',         bytes: `GET / HTTP/1.1\r\n${H}Content-Length: +1\r\n\r\nxGET /second HTTP/1.1\r\n${H}\r\n`, status: 400, reason: 'bad_request' },
  { name: 'pipelined request after bad Host',          bytes: `GET / HTTP/1.1\r\nHost: a b\r\n\r\nGET /second HTTP/1.1\r\n${H}\r\n`, status: 400, reason: 'bad_host' },
  { name: 'pipelined request after a bad target',      bytes: `GET * HTTP/1.1\r\n${H}\r\nGET /second HTTP/1.1\r\n${H}\r\n`, status: 400, reason: 'bad_target' },
  { name: 'smuggled request in a rejected body',       bytes: `${POST}Content-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`, status: 400, reason: 'bad_request' },
];

describe('malformed and hostile requests never reach the upstream', () => {
  let upstream: RawUpstream;
  let sidecar: SidecarProcess;

  before(async () => {
    upstream = await startRawUpstream();
    const config = writeConfig({ 'endpoints.yaml': endpointsYaml('raw', [upstream.address]) });
    sidecar = await startSidecarProcess({ service: 'app', app: upstream.address, config });
  });

  after(async () => {
    await sidecar?.stop();
    await upstream?.close();
  });

  const portOf = (listener: Listener): number => (listener === 'inbound' ? sidecar.inboundPort : sidecar.outboundPort);

  const rejected = (listener: Listener, reason: Reason): Promise<number> => rejectedCount(sidecar.adminPort, listener, reason);

  for (const listener of ['outbound', 'inbound'] as const) {
    describe(`${listener} listener`, () => {
      for (const c of CORPUS) {
        test(c.name, async () => {
          const before = await rejected(listener, c.reason);
          const upstreamBytes = upstream.received().length;
          const reply = await sendRaw(portOf(listener), typeof c.bytes === 'string' ? [c.bytes] : c.bytes);
          assert.equal(reply.status, c.status, `reply: ${JSON.stringify(reply.raw.slice(0, 300))}`);
          assert.equal(reply.responses, 1, 'nothing after a rejected request is answered');
          assert.ok(reply.closed || reply.headers.connection === 'close', 'connection closed');
          assert.equal(await rejected(listener, c.reason), before + 1, `outrigger_downstream_rejected_total{reason="${c.reason}"} +1`);
          assert.equal(upstream.received().subarray(upstreamBytes).toString('latin1'), '', 'nothing reached the upstream');
          assert.equal(sidecar.child.exitCode, null, 'sidecar alive');
          const ok = await send(portOf(listener), { path: '/after', headers: { host: 'raw' } });
          assert.equal(ok.status, 200);
        });
      }

      test('100 header fields, the limit, are served and all forwarded', async () => {
        const upstreamBytes = upstream.received().length;
        const reply = await sendRaw(portOf(listener), [`GET /hundred HTTP/1.1\r\n${H}${Array.from({ length: 99 }, (_, i) => `X-${i}: ${i}\r\n`).join('')}\r\n`], 500);
        assert.equal(reply.status, 200, reply.raw);
        const forwarded = upstream.received().subarray(upstreamBytes).toString('latin1');
        for (let i = 0; i < 99; i++) assert.ok(forwarded.includes(`\r\nx-${i}: ${i}\r\n`) || forwarded.includes(`\r\nX-${i}: ${i}\r\n`), `x-${i} forwarded`);
      });

      test('"GET  / HTTP/1.1" (two spaces) is read as RFC 9112 §3 allows and forwarded with a canonical request line', async () => {
        const upstreamBytes = upstream.received().length;
        const reply = await sendRaw(portOf(listener), [`GET  /two-spaces HTTP/1.1\r\n${H}\r\n`], 500);
        assert.equal(reply.status, 200, reply.raw);
        assert.match(upstream.received().subarray(upstreamBytes).toString('latin1'), /^GET \/two-spaces HTTP\/1\.1\r\n/);
      });

      test('h2c upgrade is not performed: served as plain HTTP/1.1 without the upgrade headers', async () => {
        const upstreamBytes = upstream.received().length;
        const reply = await sendRaw(portOf(listener), [`GET /h2c HTTP/1.1\r\n${H}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`], 500);
        assert.equal(reply.status, 200, reply.raw);
        assert.equal(reply.headers.upgrade, undefined);
        const forwarded = upstream.received().subarray(upstreamBytes).toString('latin1').toLowerCase();
        assert.match(forwarded, /^get \/h2c http\/1\.1\r\n/);
        assert.doesNotMatch(forwarded, /upgrade|http2-settings/);
      });
    });
  }
});

/**
 * A chunked body whose bad chunk arrives in a later packet, after good chunks were streamed: a streaming proxy has
 * already sent the head upstream (as Envoy would). What must hold: the client gets 400 and a closed connection, and
 * the upstream never sees a complete request; its request is aborted.
 */
describe('a streamed body that turns malformed after it started', () => {
  let app: TestUpstream;
  let sidecar: SidecarProcess;
  const bodies: { complete: boolean; aborted: boolean; bytes: string }[] = [];

  before(async () => {
    app = await startUpstream((req, res) => {
      const body = { complete: false, aborted: false, bytes: '' };
      bodies.push(body);
      req.on('data', (chunk: Buffer) => (body.bytes += chunk.toString('latin1')));
      req.on('end', () => {
        body.complete = true;
        res.end('stored');
      });
      req.on('close', () => (body.aborted = !body.complete));
    }, 'app');
    sidecar = await startSidecarProcess({ service: 'app', app: app.address, config: writeConfig({ 'endpoints.yaml': endpointsYaml('other', []) }) });
  });

  after(async () => {
    await sidecar?.stop();
    await app?.close();
  });

  test('good chunk, then a bad chunk size in a later write: 400, and the upstream request is aborted', async () => {
    const reply = await sendRaw(sidecar.inboundPort, [`POST /upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`, 'zz\r\n0\r\n\r\n'], 2_000);
    assert.equal(reply.status, 400, reply.raw);
    assert.ok(reply.closed, 'connection closed');
    const deadline = Date.now() + 2_000;
    while (!bodies[0]?.aborted && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(bodies.length, 1);
    assert.equal(bodies[0]?.complete, false, 'the app never saw a complete request');
    assert.equal(bodies[0]?.aborted, true, 'its request was aborted');
    assert.equal(sidecar.child.exitCode, null, 'sidecar alive');
  });
});
