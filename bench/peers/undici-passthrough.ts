/**
 * The runtime's limit: node:http server + one undici Pool (keep-alive), `pool.stream()` writing
 * straight into `res`, headers copied minus hop-by-hop ones. No routing, no policies, no metrics.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({ options: { port: { type: 'string' }, upstream: { type: 'string' } } });
const pool = new Pool(`http://${values.upstream}`, { connections: 128, pipelining: 1, keepAliveTimeout: 4_000 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

function copy(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

const server = http.createServer((req, res) => {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool.stream(
    { path: req.url ?? '/', method: req.method ?? 'GET', headers: copy(req.headers) as Record<string, string>, body: hasBody ? req : null, opaque: res },
    ({ statusCode, headers, opaque }) => opaque.writeHead(statusCode, copy(headers)),
    (error) => {
      if (error === null) return;
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy(error);
    },
  );
});
server.keepAliveTimeout = 75_000;
server.listen(Number(values.port), '127.0.0.1');
