import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Handler, Layer, Outcome, RequestContext } from '../pipeline/context.ts';
import { DEFAULT_BUFFER_LIMIT_BYTES } from './retry/policy.ts';
import { prepareBody } from './retry/replay-body.ts';

export interface MirrorTarget {
  /** True when this request should be copied (percent/fraction already applied). */
  selected: () => boolean;
  /** Where the copy goes, or undefined when the mirror Service has no healthy endpoint. */
  dispatcher: (ctx: RequestContext) => Dispatcher | undefined;
  onSent: (outcome: 'sent' | 'skipped-body' | 'no-endpoint' | 'failed') => void;
}

/** Bodies up to this size are mirrored: the same bound as the retry layer's replay buffer. */
export const MIRROR_BODY_LIMIT_BYTES = DEFAULT_BUFFER_LIMIT_BYTES;

/**
 * RequestMirror: a copy of the request goes to another Service and its response is discarded; the original never
 * waits for the copy. As Envoy does, the copy's Host gets a `-shadow` suffix. A body is copied as Envoy's router
 * does it, from a buffer: a selected request whose Content-Length is at most MIRROR_BODY_LIMIT_BYTES is read whole
 * first (as the retry layer reads it for replay, and then reuses it), and both copies are sent from that buffer.
 * Teeing the stream instead would tie the original's back-pressure to the mirror. Chunked and larger bodies are
 * not mirrored (`skipped-body`); their original streams as usual.
 */
export function mirror(targets: readonly MirrorTarget[]): Layer | undefined {
  if (targets.length === 0) return undefined;
  return (next: Handler): Handler =>
    (ctx) => {
      let chosen: MirrorTarget[] | undefined;
      for (const target of targets) if (target.selected()) (chosen ??= []).push(target);
      if (!chosen) return next(ctx);
      if (!ctx.hasBody || ctx.replayBody) {
        for (const target of chosen) sendCopy(ctx, target);
        return next(ctx);
      }
      return mirrorWithBody(ctx, chosen, next);
    };
}

async function mirrorWithBody(ctx: RequestContext, chosen: readonly MirrorTarget[], next: Handler): Promise<Outcome> {
  const body = await prepareBody(ctx, MIRROR_BODY_LIMIT_BYTES);
  // A malformed body or a client gone mid-body: the original fails exactly as the retry layer would fail it.
  if (typeof body === 'object') return body;
  for (const target of chosen) {
    if (body === 'replayable') sendCopy(ctx, target);
    else target.onSent('skipped-body');
  }
  return next(ctx);
}

function sendCopy(ctx: RequestContext, target: MirrorTarget): void {
  const dispatcher = target.dispatcher(ctx);
  if (!dispatcher) {
    target.onSent('no-endpoint');
    return;
  }
  const copy: IncomingHttpHeaders = { ...ctx.upstreamHeaders };
  if (copy.host) copy.host = shadowHost(copy.host);
  try {
    dispatcher.dispatch(
      { path: ctx.upstreamPath, method: ctx.method as Dispatcher.HttpMethod, headers: copy as Record<string, string>, body: ctx.replayBody ?? null },
      new DiscardHandler(target),
    );
  } catch {
    // A pool closed by a config change while this request ran: the copy is lost, never the original.
    target.onSent('failed');
  }
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
