import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { sendFailure } from '../http/local-reply.ts';
import type { Handler } from '../pipeline/context.ts';
import type { ConfigStore } from '../runtime/config-store.ts';
import type { RequestTracer } from '../observability/request-trace.ts';
import type { RuntimeConfig } from '../runtime/compile.ts';
import { parseAuthority } from '../routing/service-key.ts';
import type { RejectReason } from './http-server.ts';
import { createContext, runChain, splitTarget, type RequestObserver } from './request-entry.ts';
import { proxyUpgrade } from '../upstream/upgrade.ts';

/** Names the calling Service on mesh hops: read by the receiving sidecar (rate-limit keys, metrics). */
export const SOURCE_HEADER = 'x-outrigger-source';

export interface OutboundOptions {
  store: ConfigStore;
  namespace: string;
  /** This sidecar's Service as `name.namespace`, sent upstream in `x-outrigger-source` (overwriting any the app set). */
  source: string;
  observe: RequestObserver;
  tracer?: RequestTracer | undefined;
  /** Counts requests refused here as malformed (`bad_target`, `bad_host`). */
  onReject?: ((reason: RejectReason) => void) | undefined;
}

/**
 * The app's calls to other Services. The destination is the Service the Host names (`catalog`, `catalog:8080`,
 * `catalog.shop.svc.cluster.local`), or the authority of an absolute-form URL when the app uses HTTP_PROXY.
 */
export function outboundHandlers(options: OutboundOptions): {
  onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
} {
  const resolve = (req: IncomingMessage, config: RuntimeConfig, path: string, query: string, authority: string | undefined): { handler: Handler; key: string; routeName: string } | { error: 'DPE' | 'NR'; detail: string } => {
    const host = authority ?? req.headers.host ?? '';
    const parsed = parseAuthority(host, options.namespace, config.mesh.clusterDomain);
    if (!parsed) return { error: 'DPE', detail: `malformed Host "${host.slice(0, 100)}"` };
    const key = `${parsed.service}.${parsed.namespace}`;
    const table = config.routeTables.get(key);
    if (table) {
      const rule = table.match({ method: req.method ?? 'GET', path, query, headers: req.headers, ...(parsed.port !== undefined ? { port: parsed.port } : {}) });
      if (rule) {
        const handler = config.ruleHandlers.get(rule);
        if (handler) return { handler, key, routeName: `${rule.route.namespace}/${rule.route.name}/${rule.ruleName ?? rule.ruleIndex}` };
      }
    }
    const fallback = config.defaultHandlers.get(key);
    if (fallback) return { handler: fallback, key, routeName: '' };
    return { error: 'NR', detail: `unknown Service "${key}"; add a ServiceEndpoints resource for it` };
  };

  return {
    onRequest(req, res) {
      const config = options.store.current;
      const target = splitTarget(req.url ?? '/');
      if (!target) {
        options.onReject?.('bad_target');
        res.setHeader('connection', 'close');
        sendFailure(res, 'DPE', 'malformed request target', true);
        return;
      }
      if (target.authority !== undefined) req.headers.host = target.authority;
      const ctx = createContext(req, res, 'outbound', target, config);
      ctx.upstreamHeaders[SOURCE_HEADER] = options.source;
      const found = resolve(req, config, target.path, target.query, target.authority);
      if ('error' in found) {
        if (found.error === 'DPE') {
          options.onReject?.('bad_host');
          res.setHeader('connection', 'close');
        }
        runChain(ctx, () => Promise.resolve({ status: 0, committed: false, flag: found.error, detail: found.detail }), options.observe);
        return;
      }
      ctx.destination = found.key;
      ctx.routeName = found.routeName;
      ctx.trace = options.tracer?.begin(ctx);
      runChain(ctx, found.handler, options.observe);
    },
    onUpgrade(req, socket, head) {
      const config = options.store.current;
      const target = splitTarget(req.url ?? '/');
      const parsed = target && parseAuthority(target.authority ?? req.headers.host ?? '', options.namespace, config.mesh.clusterDomain);
      const service = parsed ? config.services.get(`${parsed.service}.${parsed.namespace}`) : undefined;
      const path = target ? (target.query ? `${target.path}?${target.query}` : target.path) : '/';
      proxyUpgrade(req, socket, head, service, path, { timeoutMs: config.mesh.downstream.streamIdleTimeout, onIdle: () => options.onReject?.('stream_idle_timeout') });
    },
  };
}
