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

/**
 * A chunked POST whose body ('part one;part two') ends with `trailers`; `announce`, when given, becomes its
 * `Trailer` header.
 */
export function sendWithTrailers(
  port: number,
  options: { host: string; path: string; trailers: Record<string, string>; announce?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: OutgoingHttpHeaders = { host: options.host, 'transfer-encoding': 'chunked' };
    if (options.announce !== undefined) headers.trailer = options.announce;
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: options.path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.write('part one;');
    req.addTrailers(options.trailers);
    req.end('part two');
  });
}

export async function getJson<T>(port: number, path: string): Promise<{ status: number; body: T }> {
  const res = await send(port, { path });
  return { status: res.status, body: JSON.parse(res.body) as T };
}
