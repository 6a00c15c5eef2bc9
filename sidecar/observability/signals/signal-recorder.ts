import { OTHER_SOURCE, SERVICE_KEY_PATTERN, type SignalWindows } from '../../../mesh/signals-report.ts';
import type { ReasonFlag } from '../../http/reason.ts';
import { SOURCE_HEADER } from '../../listeners/outbound.ts';
import type { RequestObserver } from '../../listeners/request-entry.ts';
import type { Outcome, RequestContext } from '../../pipeline/context.ts';
import { SignalRing } from './signal-ring.ts';

export interface SignalRecorderOptions {
  /** Monotonic milliseconds (performance.now); tests pass a synthetic clock. */
  now?: () => number;
}

export interface SignalRecorder {
  /**
   * Observes INBOUND requests only (the ones this sidecar delivers to its app); outbound ones pass untouched, so
   * the same observer can sit on both listeners. Compose it with the metrics observer through `chainObservers`.
   */
  readonly observer: RequestObserver;
  /** The stable (60 s) and panic (6 s) windows as of `nowMs` (the recorder's clock by default). */
  snapshot(nowMs?: number): SignalWindows;
  /** Inbound requests in flight now. */
  readonly inFlight: number;
  /** The ring itself, for callers that feed it directly (tests, other listeners). */
  readonly ring: SignalRing;
}

/** Reason flags that mean the proxy could not get an answer from the app: errors even when no 5xx reached the client. */
const PROXY_FAILURES: ReadonlySet<ReasonFlag> = new Set<ReasonFlag>(['UH', 'UF', 'UCT', 'UT', 'UC', 'UPE', 'UO', 'CO', 'URX', 'NB']);

/**
 * An error for autoscaling: a 5xx, or a proxy failure (e.g. the upstream reset after the headers went out, so the
 * client saw a 200 and a cut body). Not a client that went away (DC, 499), nor a 4xx such as a rate limit.
 */
export function isSignalError(outcome: Outcome): boolean {
  return outcome.status >= 500 || (outcome.flag !== undefined && PROXY_FAILURES.has(outcome.flag));
}

/**
 * The calling Service of an inbound request, from the `x-outrigger-source` its caller's sidecar set: undefined
 * without the header (a client outside the mesh), OTHER_SOURCE when it is not a `name.namespace` Service key.
 */
export function callerOf(ctx: RequestContext): string | undefined {
  const value = ctx.req.headers[SOURCE_HEADER];
  if (value === undefined) return undefined;
  return typeof value === 'string' && value.length <= 127 && SERVICE_KEY_PATTERN.test(value) ? value : OTHER_SOURCE;
}

/** Records the local workload's inbound traffic for autoscaling signals (see SignalRing). */
export function createSignalRecorder(options: SignalRecorderOptions = {}): SignalRecorder {
  const now = options.now ?? (() => performance.now());
  const ring = new SignalRing(now());
  const started = new WeakSet<RequestContext>();
  const observer: RequestObserver = (ctx, outcome) => {
    if (ctx.direction !== 'inbound') return;
    ring.end(now(), performance.now() - ctx.startedAt, isSignalError(outcome), started.delete(ctx), callerOf(ctx));
  };
  observer.onStart = (ctx) => {
    if (ctx.direction !== 'inbound') return;
    started.add(ctx);
    ring.start(now());
  };
  return {
    observer,
    snapshot: (nowMs) => ring.windows(nowMs ?? now()),
    get inFlight() {
      return ring.inFlight;
    },
    ring,
  };
}
