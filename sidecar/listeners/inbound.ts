import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { sendFailure } from '../http/local-reply.ts';
import type { ConfigStore } from '../runtime/config-store.ts';
import type { RequestTracer } from '../observability/request-trace.ts';
import type { RejectReason } from './http-server.ts';
import { createContext, runChain, splitTarget, type RequestObserver } from './request-entry.ts';
import { proxyUpgrade } from '../upstream/upgrade.ts';

/** Mesh traffic for the local app: everything arriving here goes to `--app`. */
export function inboundHandlers(options: { store: ConfigStore; observe: RequestObserver; tracer?: RequestTracer | undefined; onReject?: ((reason: RejectReason) => void) | undefined }): {
  onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
} {
  return {
    onRequest(req, res) {
      const config = options.store.current;
      const target = splitTarget(req.url ?? '/');
      if (!target || target.authority !== undefined) {
        options.onReject?.('bad_target');
        res.setHeader('connection', 'close');
        sendFailure(res, 'DPE', 'inbound requests must use origin-form targets', true);
        return;
      }
      const ctx = createContext(req, res, 'inbound', target, config);
      ctx.destination = config.inbound.key;
      ctx.trace = options.tracer?.begin(ctx);
      runChain(ctx, config.inboundHandler, options.observe);
    },
    onUpgrade(req, socket, head) {
      const config = options.store.current;
      proxyUpgrade(req, socket, head, config.inbound, req.url ?? '/', { timeoutMs: config.mesh.downstream.streamIdleTimeout, onIdle: () => options.onReject?.('stream_idle_timeout') });
    },
  };
}
