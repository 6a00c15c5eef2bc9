import type { HTTPRouteFilter } from '../../policy/schema/http-route.ts';
import { redirectLocation } from '../routing/filters.ts';
import { sendLocalReply } from '../http/local-reply.ts';
import type { Handler } from '../pipeline/context.ts';

type RedirectSpec = Extract<HTTPRouteFilter, { type: 'RequestRedirect' }>['requestRedirect'];

/** A rule with RequestRedirect answers by itself; nothing goes upstream. */
export function redirectHandler(redirect: RedirectSpec, matchedPrefix: string | undefined): Handler {
  return (ctx) => {
    const authority = ctx.req.headers.host ?? '';
    const colon = authority.lastIndexOf(':');
    const hasPort = colon > authority.lastIndexOf(']');
    const host = hasPort ? authority.slice(0, colon) : authority;
    const port = hasPort ? Number(authority.slice(colon + 1)) : undefined;
    const location = redirectLocation(
      { scheme: 'http', host, ...(port !== undefined ? { port } : {}), path: ctx.path, query: ctx.query },
      redirect,
      matchedPrefix,
    );
    sendLocalReply(ctx.res, redirect.statusCode, `redirecting to ${location}`, { headers: { location } });
    return Promise.resolve({ status: redirect.statusCode, committed: true });
  };
}
