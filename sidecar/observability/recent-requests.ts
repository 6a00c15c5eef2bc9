import type { Endpoint } from '../endpoints/endpoint.ts';
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
 * The last `capacity` requests, in a ring: bounded memory, and an answer to "what happened to request X" without a
 * tracing backend. Ids repeat across hops (the id is propagated), so a lookup returns the newest request with it.
 *
 * Kept as one array per field, filled in place: recording a request allocates nothing but, after a retry, the list of
 * endpoints tried. Records would live for `capacity` requests, long enough to be promoted to the old generation, so
 * an object (and a Map entry) per request fed the major GCs under load. Lookups scan the ring; they come from
 * `outrigger explain` and the admin API, off the request path.
 */
export class RecentRequests {
  private readonly capacity: number;
  private readonly requestId: (string | undefined)[];
  private readonly atMs: Float64Array;
  private readonly direction: string[];
  private readonly method: string[];
  private readonly authority: string[];
  private readonly path: string[];
  private readonly route: string[];
  private readonly destination: string[];
  private readonly attempts: Int32Array;
  /** The endpoint that answered, or every endpoint tried in order when there was more than one. */
  private readonly endpoints: (string | readonly string[] | undefined)[];
  private readonly status: Int32Array;
  private readonly flag: (string | undefined)[];
  private readonly detail: (string | undefined)[];
  private readonly durationMs: Float64Array;
  private next = 0;

  constructor(capacity = 1_000) {
    const size = Math.max(1, capacity);
    this.capacity = size;
    this.requestId = new Array<string | undefined>(size).fill(undefined);
    this.atMs = new Float64Array(size);
    this.direction = new Array<string>(size).fill('');
    this.method = new Array<string>(size).fill('');
    this.authority = new Array<string>(size).fill('');
    this.path = new Array<string>(size).fill('');
    this.route = new Array<string>(size).fill('');
    this.destination = new Array<string>(size).fill('');
    this.attempts = new Int32Array(size);
    this.endpoints = new Array<string | readonly string[] | undefined>(size).fill(undefined);
    this.status = new Int32Array(size);
    this.flag = new Array<string | undefined>(size).fill(undefined);
    this.detail = new Array<string | undefined>(size).fill(undefined);
    this.durationMs = new Float64Array(size);
  }

  readonly observer: RequestObserver = (ctx, outcome) => {
    const i = this.next;
    this.next = i + 1 === this.capacity ? 0 : i + 1;
    const durationMs = performance.now() - ctx.startedAt;
    this.requestId[i] = ctx.requestId;
    this.atMs[i] = Date.now() - durationMs;
    this.direction[i] = ctx.direction;
    this.method[i] = ctx.method;
    this.authority[i] = ctx.req.headers.host ?? '';
    this.path[i] = ctx.path;
    this.route[i] = ctx.routeName;
    this.destination[i] = ctx.destination;
    this.attempts[i] = ctx.attempts;
    this.endpoints[i] = ctx.triedEndpoints ? triedInOrder(ctx.triedEndpoints, ctx.endpoint) : ctx.endpoint?.address;
    this.status[i] = outcome.status;
    this.flag[i] = outcome.flag ?? ctx.flag;
    this.detail[i] = outcome.detail;
    this.durationMs[i] = Math.round(durationMs * 1_000) / 1_000;
  };

  get(requestId: string): RequestRecord | undefined {
    for (let age = 1; age <= this.capacity; age++) {
      const i = this.slot(age);
      if (this.requestId[i] === undefined) return undefined;
      if (this.requestId[i] === requestId) return this.record(i);
    }
    return undefined;
  }

  /** The most recent failures (5xx or a reason flag), newest first. */
  failures(limit = 50): RequestRecord[] {
    const out: RequestRecord[] = [];
    for (let age = 1; age <= this.capacity && out.length < limit; age++) {
      const i = this.slot(age);
      if (this.requestId[i] === undefined) break;
      if (this.status[i]! >= 500 || this.flag[i] !== undefined) out.push(this.record(i));
    }
    return out;
  }

  /** The slot of the request recorded `age` requests ago (1: the newest). */
  private slot(age: number): number {
    return (this.next - age + this.capacity) % this.capacity;
  }

  private record(i: number): RequestRecord {
    const endpoints = this.endpoints[i];
    return {
      requestId: this.requestId[i]!,
      at: new Date(this.atMs[i]!).toISOString(),
      direction: this.direction[i]!,
      method: this.method[i]!,
      authority: this.authority[i]!,
      path: this.path[i]!,
      route: this.route[i]!,
      destination: this.destination[i]!,
      attempts: this.attempts[i]!,
      endpoints: endpoints === undefined ? [] : typeof endpoints === 'string' ? [endpoints] : [...endpoints],
      status: this.status[i]!,
      flag: this.flag[i],
      detail: this.detail[i],
      durationMs: this.durationMs[i]!,
    };
  }
}

/** Endpoints of earlier attempts, then the last one's, once each in a row. */
function triedInOrder(tried: ReadonlySet<Endpoint>, last: Endpoint | undefined): string[] {
  const endpoints: string[] = [];
  for (const endpoint of tried) endpoints.push(endpoint.address);
  if (last && endpoints[endpoints.length - 1] !== last.address) endpoints.push(last.address);
  return endpoints;
}
