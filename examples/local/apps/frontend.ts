import { Agent, request } from 'node:http';
import { appArgs, reply, serve } from './http-app.ts';

/**
 * The shop's frontend: GET / asks catalog for the items, then pricing for their prices, both through its sidecar's
 * outbound listener (`--outbound PORT`), naming the Service in the Host header. It knows nothing of replicas.
 */
const { name, port, flags } = appArgs(['outbound']);
const outbound = Number(flags.outbound);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

interface Answer {
  status: number;
  body: unknown;
}

function call(host: string, path: string, requestId: string | undefined): Promise<Answer> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { host };
    if (requestId) headers['x-request-id'] = requestId;
    const req = request({ host: '127.0.0.1', port: outbound, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: unknown = text.trim();
        try {
          body = JSON.parse(text);
        } catch {
          // a local reply in text: kept as is
        }
        resolve({ status: res.statusCode ?? 502, body: { ...(typeof body === 'object' ? body : { error: body }), reason: res.headers['x-outrigger-reason'] } });
      });
    });
    req.on('error', (error) => resolve({ status: 502, body: { error: error.message } }));
    req.end();
  });
}

serve(name, port, (req, res) => {
  const requestId = req.headers['x-request-id'] as string | undefined;
  void (async () => {
    const catalog = await call('catalog', '/items', requestId);
    if (catalog.status !== 200) return reply(res, 502, { frontend: name, failed: 'catalog', catalogStatus: catalog.status, catalog: catalog.body });
    const items = (catalog.body as { items: string[] }).items;
    const pricing = await call('pricing', `/prices?items=${encodeURIComponent(items.join(','))}`, requestId);
    if (pricing.status !== 200) return reply(res, 502, { frontend: name, failed: 'pricing', pricingStatus: pricing.status, pricing: pricing.body });
    reply(res, 200, { frontend: name, catalog: catalog.body, pricing: pricing.body });
  })();
});
