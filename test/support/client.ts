import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export interface ClientResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  trailers: NodeJS.Dict<string>;
}

/** One HTTP/1.1 request with node:http and no connection reuse, so each test controls exactly what is sent. */
export function send(
  port: number,
  options: { method?: string; path?: string; headers?: OutgoingHttpHeaders; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers, agent: false, timeout: options.timeoutMs ?? 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), trailers: res.trailers }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(options.body);
  });
}

export async function getJson<T>(port: number, path: string): Promise<{ status: number; body: T }> {
  const res = await send(port, { path });
  return { status: res.status, body: JSON.parse(res.body) as T };
}
