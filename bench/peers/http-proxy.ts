/**
 * node-http-proxy 1.18 with a keep-alive agent. On Node 24 it prints DEP0060 (util._extend):
 * left as is on purpose, the harness shows it under the results.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import httpProxy from 'http-proxy';

const { values } = parseArgs({ options: { port: { type: 'string' }, upstream: { type: 'string' } } });

// Without an agent http-proxy sends `Connection: close` upstream; with one it keeps the sockets.
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
const proxy = httpProxy.createProxyServer({ target: `http://${values.upstream}`, agent });
proxy.on('error', (_error, _req, res) => {
  if (res instanceof http.ServerResponse && !res.headersSent) res.writeHead(502).end();
  else res.destroy();
});

const server = http.createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 75_000;
server.listen(Number(values.port), '127.0.0.1');
