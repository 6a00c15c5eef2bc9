import type { Handler, Layer } from '../../pipeline/context.ts';
import type { OutlierDetector } from './outlier-detector.ts';

/**
 * Reports each attempt's outcome to the Service's outlier detector. Sits between `pickEndpoint` and the forwarder,
 * so `ctx.endpoint` is the endpoint this attempt used. A client that went away (`DC`) says nothing about the
 * endpoint and is not reported; a pass that rejects is not reported either. The request whose outcome ejects an
 * endpoint records it in its trace.
 */
export function outlierObserver(detector: OutlierDetector | undefined): Layer | undefined {
  if (!detector) return undefined;
  return (next: Handler): Handler =>
    async (ctx) => {
      const endpoint = ctx.endpoint;
      const outcome = await next(ctx);
      if (endpoint && outcome.flag !== 'DC' && outcome.flag !== 'SI') {
        const wasHealthy = endpoint.healthy;
        detector.observe(endpoint, outcome);
        if (wasHealthy && !endpoint.healthy) ctx.trace?.event('endpoint_ejected', { 'server.address': endpoint.address });
      }
      return outcome;
    };
}
