import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

export function isH2cUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  return req.headers['http2-settings'] !== undefined || (upgrade !== undefined && /(?:^|[\s,])h2c(?:$|[\s,])/i.test(upgrade));
}

const UPGRADE_TOKENS = new Set(['upgrade', 'http2-settings']);

/**
 * Declines an h2c upgrade (we do not speak HTTP/2 in clear text): the request is served as plain HTTP/1.1, as RFC
 * 9113 §3.1 allows. llhttp stops parsing at an upgrade offer and Node drops whatever followed it in the same packet
 * when the upgrade is declined, so the listener takes the upgrade, writes the head back without `Upgrade`,
 * `HTTP2-Settings` and their Connection tokens, puts it in front of the unread bytes, and hands the connection
 * to the HTTP server again. The head went through the strict parser once; rewriting it loses nothing else.
 */
export function serveWithoutUpgrade(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (UPGRADE_TOKENS.has(lower)) continue;
    if (lower === 'connection') {
      const kept = (raw[i + 1] as string)
        .split(',')
        .map((token) => token.trim())
        .filter((token) => token !== '' && !UPGRADE_TOKENS.has(token.toLowerCase()));
      if (kept.length > 0) lines.push(`${name}: ${kept.join(', ')}`);
      continue;
    }
    lines.push(`${name}: ${raw[i + 1] as string}`);
  }
  socket.unshift(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), head]));
  server.emit('connection', socket);
}
