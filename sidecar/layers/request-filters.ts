import type { HTTPRouteFilter } from '../../policy/schema/http-route.ts';
import { applyHeaderModifier, rewritePath } from '../routing/filters.ts';
import type { Handler, Layer, RequestContext } from '../pipeline/context.ts';

/**
 * Applies a rule's or backend's RequestHeaderModifier, ResponseHeaderModifier and URLRewrite filters.
 * Request edits happen here; response edits are queued on the context and applied when the response starts.
 */
export function requestFilters(filters: readonly HTTPRouteFilter[] | undefined, matchedPrefix: string | undefined): Layer | undefined {
  const edits = (filters ?? []).filter((f) => f.type === 'RequestHeaderModifier' || f.type === 'ResponseHeaderModifier' || f.type === 'URLRewrite');
  if (edits.length === 0) return undefined;
  return (next: Handler): Handler =>
    (ctx) => {
      for (const filter of edits) applyFilter(ctx, filter, matchedPrefix);
      return next(ctx);
    };
}

function applyFilter(ctx: RequestContext, filter: HTTPRouteFilter, matchedPrefix: string | undefined): void {
  switch (filter.type) {
    case 'RequestHeaderModifier':
      applyHeaderModifier(ctx.upstreamHeaders, filter.requestHeaderModifier);
      return;
    case 'ResponseHeaderModifier':
      (ctx.responseHeaderModifiers ??= []).push(filter.responseHeaderModifier);
      return;
    case 'URLRewrite': {
      const rewrite = filter.urlRewrite;
      if (rewrite.hostname) ctx.upstreamHeaders.host = rewrite.hostname;
      if (rewrite.path) {
        const newPath = rewritePath(ctx.path, rewrite.path, matchedPrefix);
        ctx.upstreamPath = ctx.hasQuery ? `${newPath}?${ctx.query}` : newPath;
      }
      return;
    }
    default:
      return;
  }
}
