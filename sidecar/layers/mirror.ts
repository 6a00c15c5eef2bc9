import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Handler, Layer, RequestContext } from '../pipeline/context.ts';

export interface MirrorTarget {
  /** True when this request should be copied (percent/fraction already applied). */
  selected: () => boolean;
  /** Where the copy goes, or undefined when the mirror Service has no healthy endpoint. */
  dispatcher: (ctx: RequestContext) => Dispatcher | undefined;
  onSent: (outcome: 'sent' | 'skipped-body' | 'no-endpoint' | 'failed') => void;
}

/**
 * RequestMirror: a copy of the request goes to another Service and its response is discarded; the
 * original never waits for it. As Envoy does, the copy's Host gets a `-shadow` suffix. Requests with a
 * body are not mirrored: copying a stream would tie the original's back-pressure to the mirror.
 */
export function mirror(targets: readonly MirrorTarget[]): Layer | undefined {
  if (targets.length === 0) return undefined;
  return (next: Handler): Handler =>
    (ctx) => {
      for (const target of targets) if (target.selected()) sendCopy(ctx, target);
      return next(ctx);
    };
}

function sendCopy(ctx: RequestContext, target: MirrorTarget): void {
  if (ctx.hasBody) {
    target.onSent('skipped-body');
    return;
  }
  const dispatcher = target.dispatcher(ctx);
  if (!dispatcher) {
    target.onSent('no-endpoint');
    return;
  }
  const copy: IncomingHttpHeaders = { ...ctx.upstreamHeaders };
  if (copy.host) copy.host = shadowHost(copy.host);
  dispatcher.dispatch(
    { path: ctx.upstreamPath, method: ctx.method as Dispatcher.HttpMethod, headers: copy as Record<string, string>, body: null },
    new DiscardHandler(target),
  );
}

function shadowHost(host: string): string {
  const colon = host.lastIndexOf(':');
  return colon > host.lastIndexOf(']') ? `${host.slice(0, colon)}-shadow${host.slice(colon)}` : `${host}-shadow`;
}

class DiscardHandler implements Dispatcher.DispatchHandler {
  private readonly target: MirrorTarget;
  constructor(target: MirrorTarget) {
    this.target = target;
  }
  onRequestStart(): void {}
  onResponseStart(): void {}
  onResponseData(): void {}
  onResponseEnd(): void {
    this.target.onSent('sent');
  }
  onResponseError(): void {
    this.target.onSent('failed');
  }
}
