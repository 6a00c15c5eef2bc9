import type { IncomingMessage } from 'node:http';
import type { Balancer } from '../balancers/balancer.ts';
import type { Endpoint } from '../endpoints/endpoint.ts';
import type { Handler, Layer } from '../pipeline/context.ts';

/**
 * Chooses the endpoint for this attempt; with none healthy the request ends here with `UH`.
 *
 * A retry that has already tried every healthy endpoint goes to an ejected one it has not tried, rather than back to
 * one that just failed it: an ejection is a guess from earlier errors, this request's failures are facts. (Envoy
 * would send it back to a tried host; after an upstream restart that is often the one still refusing connections.)
 */
export function pickEndpoint(balancer: Balancer, endpoints: readonly Endpoint[], serviceLabel: string, hashKey?: (req: IncomingMessage) => string | undefined): Layer {
  return (next: Handler): Handler =>
    (ctx) => {
      if (hashKey && ctx.hashKey === undefined) ctx.hashKey = hashKey(ctx.req);
      const tried = ctx.triedEndpoints;
      let endpoint = balancer.pick(ctx.hashKey, tried);
      if (tried !== undefined && (endpoint === undefined || tried.has(endpoint))) endpoint = untriedEjected(endpoints, tried) ?? endpoint;
      if (!endpoint) return Promise.resolve({ status: 503, committed: false, flag: 'UH', detail: `Service ${serviceLabel} has no healthy endpoint` });
      ctx.endpoint = endpoint;
      return next(ctx);
    };
}

/** An ejected endpoint this request has not tried, from a random starting point so retries spread out. */
function untriedEjected(endpoints: readonly Endpoint[], tried: ReadonlySet<Endpoint>): Endpoint | undefined {
  const n = endpoints.length;
  const start = Math.floor(Math.random() * n);
  for (let i = 0; i < n; i++) {
    const e = endpoints[(start + i) % n] as Endpoint;
    if (!e.healthy && !tried.has(e)) return e;
  }
  return undefined;
}
