import type { Server } from 'node:http';

const { createServer } = process.getBuiltinModule('node:http');

/**
 * The kubelet's view of the sidecar: `GET /ready` and `GET /live` only, on an address the node can reach (Istio
 * serves the same on 15021). The admin API, with config dumps and `POST /drain`, stays on loopback.
 */
export function createHealthServer(isReady: () => boolean): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    let status = 404;
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (path === '/live') status = 200;
      else if (path === '/ready') status = isReady() ? 200 : 503;
    } else {
      status = 405;
    }
    const body = status === 200 ? 'ok\n' : status === 503 ? 'not ready\n' : status === 405 ? 'GET only\n' : 'only /ready and /live\n';
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}
