import { compareForward, type Listener } from './expected-forward.ts';
import type { RawExchange, RawResponse } from './raw-exchange.ts';
import type { RecordedRequest, UpstreamEvent } from './recording-upstream.ts';
import type { ReferenceParse } from './reference-parser.ts';

/** What happened to the case as a whole, for the corpus's `expect` and the run's statistics. */
export type Outcome = 'forwarded' | 'refused' | 'mixed' | 'unanswered';

export interface Verdict {
  problems: string[];
  outcome: Outcome;
  /** The proxy started forwarding a request it then aborted (outcome b'). */
  aborted: boolean;
}

export interface Observation {
  reference: ReferenceParse;
  listener: Listener;
  exchange: RawExchange;
  /** Upstream events caused by this case (the liveness probe excluded). */
  events: UpstreamEvent[];
  /** Requests the proxy started upstream and still had not finished or aborted after the case. */
  openPartials: { connection: number; raw: string }[];
}

/** Refusals a listener may answer: any 4xx, 501 (CONNECT, unknown transfer coding) and 505 (HTTP version). */
const isRefusal = (status: number): boolean => (status >= 400 && status < 500) || status === 501 || status === 505;
/** Refusals of a well-framed request after which the connection may stay open: no route (404), failed `Expect` (417). */
const keepsConnection = (status: number): boolean => status === 404 || status === 417;
const recordedSeq = (response: RawResponse): number | undefined => {
  const match = response.status === 200 ? /^recorded (\d+)$/.exec(response.body) : null;
  return match ? Number(match[1]) : undefined;
};

/**
 * The property: every request the client sent in full is either forwarded faithfully (the upstream saw exactly
 * one well-formed request meaning the same, and the client got the upstream's response) or refused cleanly (a 4xx,
 * 501 or 505 with `Connection: close` or a closed connection, and nothing of it reached the upstream). Refusing is
 * always allowed; forwarding only what the oracle reads as a request the proxy can forward.
 *
 * Outcome (b'): a request whose head was valid but whose body turned out invalid or never finished may have had its
 * head (and first chunks) streamed upstream before the problem was seen; that is acceptable only if the proxy then
 * closed that upstream connection, so the upstream never sees a whole request. (The streaming proxy cannot un-send
 * bytes; aborting the upstream request is the fix, see malformed-requests.test.ts.)
 */
export function judge(observation: Observation): Verdict {
  const { reference, listener, exchange, events } = observation;
  const problems: string[] = [];
  const recorded = new Map<number, RecordedRequest>();
  for (const event of events) {
    if (event.kind === 'request') recorded.set(event.request.seq, event.request);
    if (event.kind === 'malformed') problems.push(`malformed bytes reached the upstream (${event.reason}): ${JSON.stringify(event.raw.slice(0, 300))}`);
  }
  const used = new Set<number>();
  const responses = exchange.responses;
  const closed = (response: RawResponse): boolean => response.closes || exchange.closedByServer;
  let next = 0;
  let stopped = false;
  let forwarded = 0;
  let refused = 0;
  /** Positions (in `reference.requests`) of whole requests answered by a refusal that closed the connection. */
  const closingRefusals = new Set<number>();
  const tail = reference.tail;
  const label = (position: number): string =>
    position < reference.requests.length ? `request ${position + 1}` : tail.kind === 'invalid' ? `invalid request (${tail.reason})` : 'incomplete request';

  /**
   * Judges the response owed to the request at `position` (`requests.length` for the tail). `notForwardable` says why
   * it must not reach the upstream, if so; `persistent` is false when the client asked to close after it.
   */
  const answer = (position: number, notForwardable: string | undefined, persistent: boolean, compare: (request: RecordedRequest) => string[]): void => {
    const what = label(position);
    const response = responses[next];
    if (!response) {
      stopped = true;
      problems.push(`${what}: no response (${exchange.closedByServer ? 'the sidecar closed the connection without one' : 'the sidecar left it unanswered'})`);
      return;
    }
    next++;
    const seq = recordedSeq(response);
    if (seq !== undefined) {
      forwarded++;
      used.add(seq);
      const request = recorded.get(seq);
      if (!request) problems.push(`${what}: response names upstream request ${seq}, which this case did not cause`);
      else if (notForwardable !== undefined) problems.push(`${what}: forwarded although ${notForwardable}: ${JSON.stringify(request.raw.slice(0, 300))}`);
      else problems.push(...compare(request).map((problem) => `${what}: ${problem}`));
      if (!persistent) {
        stopped = true;
        if (!closed(response)) problems.push(`${what}: the client asked to close, but the connection stayed open`);
      }
      return;
    }
    if (!isRefusal(response.status)) {
      stopped = true;
      problems.push(`${what}: answered ${response.status} ${JSON.stringify(response.body.slice(0, 120))}, neither the upstream's response nor a refusal`);
      return;
    }
    refused++;
    if (closed(response)) {
      stopped = true;
      closingRefusals.add(position);
    } else if (!keepsConnection(response.status)) {
      stopped = true;
      problems.push(`${what}: refused with ${response.status} but the connection stays open`);
    }
  };

  for (const [i, request] of reference.requests.entries()) {
    if (stopped) break;
    answer(i, request.refuse, request.persistent, (got) => compareForward(request, listener, got));
  }
  // Outcome (b') is possible only for a tail the sidecar reached, whose head was valid and whose body was not.
  const partialAllowed = !stopped && tail.kind !== 'end' && tail.inBody && tail.head !== undefined && tail.head.refuse === undefined;
  const end = reference.requests.length;
  // A bad head may go unanswered until its blank line arrives (the listener judges whole heads), never after it.
  const mayWait = tail.kind === 'invalid' && !tail.inBody && tail.headEnded === false && !responses[next];
  if (!stopped && tail.kind === 'invalid' && !mayWait) answer(end, `it is invalid: ${tail.reason}`, true, () => []);
  if (!stopped && tail.kind === 'incomplete' && responses[next]) {
    // The sidecar may see a problem before the request is whole; anything but a refusal is wrong.
    answer(end, 'it is incomplete', true, () => []);
  }
  if (responses.length > next) problems.push(`${responses.length - next} response(s) too many: ${responses.slice(next).map((r) => r.status).join(', ')}`);

  for (const [seq, request] of recorded) {
    if (used.has(seq)) continue;
    const followed = (i: number): boolean => i < end - 1 || tail.kind !== 'end' || tail.unprocessed > 0;
    const overtaken = reference.requests.findIndex((sent, i) => closingRefusals.has(i) && followed(i) && compareForward(sent, listener, request).length === 0);
    if (overtaken >= 0) problems.push(`request ${overtaken + 1} went upstream, but its client got the refusal of what followed it`);
    else problems.push(`the upstream received a request the client got no response for: ${JSON.stringify(request.raw.slice(0, 300))}`);
  }

  const aborted = events.filter((event) => event.kind === 'aborted');
  for (const event of aborted) {
    const head = partialAllowed ? tail.head : undefined;
    if (!head || !event.raw.startsWith(`${head.method} ${head.upstreamTarget} HTTP/1.1\r\n`)) {
      problems.push(`the upstream got part of a request that should never have been forwarded: ${JSON.stringify(event.raw.slice(0, 300))}`);
    }
  }
  for (const partial of observation.openPartials) {
    problems.push(`the proxy left the upstream holding part of a request (never finished, never aborted): ${JSON.stringify(partial.raw.slice(0, 300))}`);
  }

  const outcome: Outcome = forwarded > 0 && refused === 0 ? 'forwarded' : refused > 0 && forwarded === 0 ? 'refused' : forwarded + refused === 0 ? 'unanswered' : 'mixed';
  return { problems, outcome, aborted: aborted.length > 0 };
}
