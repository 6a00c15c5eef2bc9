/** Fallback upstream when nginx is not installed: /100b and /16k from memory, keep-alive. */
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const bodies = new Map([
  ['/100b', Buffer.alloc(100, 'x')],
  ['/16k', Buffer.alloc(16 * 1024, 'x')],
]);

const server = http.createServer((req, res) => {
  const body = bodies.get(req.url ?? '');
  if (body === undefined) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
});
server.keepAliveTimeout = 75_000;
server.listen(Number(values.port), '127.0.0.1');
