import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

/**
 * The demo's services, plain Node HTTP servers that know nothing of Outrigger:
 * - catalog: answers GET /items with its replica name;
 * - frontend: answers GET / by calling catalog through its sidecar's outbound listener (Host: catalog).
 */
const { values } = parseArgs({
  options: { role: { type: 'string' }, name: { type: 'string' }, port: { type: 'string' }, outbound: { type: 'string' } },
});
const name = values.name ?? values.role ?? 'app';
const keepAlive = new Agent({ keepAlive: true, maxSockets: 64 });

function catalog(req: IncomingMessage, res: ServerResponse): void {
  const body = JSON.stringify({ replica: name, items: ['kayak', 'paddle', 'outrigger canoe'], path: req.url });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function frontend(req: IncomingMessage, res: ServerResponse): void {
  const upstream = request({ host: '127.0.0.1', port: Number(values.outbound), path: '/items', headers: { host: 'catalog', 'x-request-id': req.headers['x-request-id'] }, agent: keepAlive }, (reply) => {
    const chunks: Buffer[] = [];
    reply.on('data', (c: Buffer) => chunks.push(c));
    reply.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      const status = reply.statusCode ?? 502;
      const body = JSON.stringify({ frontend: name, catalogStatus: status, catalog: status === 200 ? JSON.parse(text) : text.trim() });
      res.writeHead(status === 200 ? 200 : 502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  upstream.on('error', (error) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`catalog call failed: ${error.message}\n`);
  });
  upstream.end();
}

const server = createServer(values.role === 'frontend' ? frontend : catalog);
server.listen(Number(values.port), '127.0.0.1');
server.on('error', (error) => {
  console.error(`${name}: ${error.message}`);
  process.exit(1);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
