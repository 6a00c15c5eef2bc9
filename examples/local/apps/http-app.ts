import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

/** What every demo app shares: `--name`, `--port` and any extra string flags, a JSON reply, a clean SIGTERM. */
export function appArgs(extra: string[] = []): { name: string; port: number; flags: Record<string, string | undefined> } {
  const options: Record<string, { type: 'string' }> = { name: { type: 'string' }, port: { type: 'string' } };
  for (const flag of extra) options[flag] = { type: 'string' };
  const { values } = parseArgs({ options });
  const flags = values as Record<string, string | undefined>;
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port <= 0) throw new Error('--port is required');
  return { name: flags.name ?? 'app', port, flags };
}

export function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Listens on 127.0.0.1:port; a listen error ends the process with its message. */
export function serve(name: string, port: number, handler: (req: IncomingMessage, res: ServerResponse) => void): void {
  const server = createServer(handler);
  server.on('error', (error) => {
    console.error(`${name}: ${error.message}`);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => console.log(`${name} listening on 127.0.0.1:${port}`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  process.on('SIGINT', () => server.close(() => process.exit(0)));
}
