import type { IncomingMessage } from 'node:http';
import type { Balancer } from '../balancers/balancer.ts';
import type { Handler, Layer } from '../pipeline/context.ts';

/** Chooses the endpoint for this attempt; with none healthy the request ends here with `UH`. */
export function pickEndpoint(balancer: Balancer, serviceLabel: string, hashKey?: (req: IncomingMessage) => string | undefined): Layer {
  return (next: Handler): Handler =>
    (ctx) => {
      if (hashKey && ctx.hashKey === undefined) ctx.hashKey = hashKey(ctx.req);
      const endpoint = balancer.pick(ctx.hashKey, ctx.triedEndpoints);
      if (!endpoint) return Promise.resolve({ status: 503, committed: false, flag: 'UH', detail: `Service ${serviceLabel} has no healthy endpoint` });
      ctx.endpoint = endpoint;
      return next(ctx);
    };
}
