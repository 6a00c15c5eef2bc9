import type { RequestObserver } from '../listeners/request-entry.ts';

/** What the sidecar remembers of one request, for `outrigger explain`. */
export interface RequestRecord {
  requestId: string;
  /** Wall-clock time it arrived, ISO 8601. */
  at: string;
  direction: string;
  method: string;
  authority: string;
  path: string;
  /** Matched route and rule, empty when none matched. */
  route: string;
  /** Destination Service (`name.namespace`), once routed. */
  destination: string;
  attempts: number;
  /** Endpoints tried, in order; the last one gave the response. */
  endpoints: string[];
  status: number;
  flag: string | undefined;
  detail: string | undefined;
  durationMs: number;
}

/**
 * The last `capacity` requests by request id, in a ring: bounded memory, O(1) per request, and an answer to "what
 * happened to request X" without a tracing backend. Ids repeat across hops (the id is propagated), not within one
 * sidecar's window.
 */
/** As kept: the time as a number, turned into text only when someone asks (off the request path). */
type Kept = Omit<RequestRecord, 'at'> & { atMs: number };

export class RecentRequests {
  private readonly ring: (Kept | undefined)[];
  private readonly byId = new Map<string, Kept>();
  private next = 0;

  constructor(capacity = 1_000) {
    this.ring = new Array<Kept | undefined>(Math.max(1, capacity));
  }

  readonly observer: RequestObserver = (ctx, outcome) => {
    const endpoints: string[] = [];
    if (ctx.triedEndpoints) for (const endpoint of ctx.triedEndpoints) endpoints.push(endpoint.address);
    if (ctx.endpoint && endpoints[endpoints.length - 1] !== ctx.endpoint.address) endpoints.push(ctx.endpoint.address);
    const durationMs = performance.now() - ctx.startedAt;
    this.keep({
      requestId: ctx.requestId,
      atMs: Date.now() - durationMs,
      direction: ctx.direction,
      method: ctx.method,
      authority: ctx.req.headers.host ?? '',
      path: ctx.path,
      route: ctx.routeName,
      destination: ctx.destination,
      attempts: ctx.attempts,
      endpoints,
      status: outcome.status,
      flag: outcome.flag ?? ctx.flag,
      detail: outcome.detail,
      durationMs: Math.round(durationMs * 1_000) / 1_000,
    });
  };

  private keep(record: Kept): void {
    const evicted = this.ring[this.next];
    if (evicted && this.byId.get(evicted.requestId) === evicted) this.byId.delete(evicted.requestId);
    this.ring[this.next] = record;
    this.next = (this.next + 1) % this.ring.length;
    this.byId.set(record.requestId, record);
  }

  get(requestId: string): RequestRecord | undefined {
    const kept = this.byId.get(requestId);
    return kept ? published(kept) : undefined;
  }

  /** The most recent failures (5xx or a reason flag), newest first. */
  failures(limit = 50): RequestRecord[] {
    const out: RequestRecord[] = [];
    for (let i = 1; i <= this.ring.length && out.length < limit; i++) {
      const record = this.ring[(this.next - i + this.ring.length) % this.ring.length];
      if (!record) break;
      if (record.status >= 500 || record.flag !== undefined) out.push(published(record));
    }
    return out;
  }
}

function published({ atMs, ...rest }: Kept): RequestRecord {
  return { ...rest, at: new Date(atMs).toISOString() };
}
