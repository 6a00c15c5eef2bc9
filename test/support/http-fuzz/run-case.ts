import { send } from '../client.ts';
import type { SidecarProcess } from '../sidecar-process.ts';
import type { Listener } from './expected-forward.ts';
import { judge, type Verdict } from './judge.ts';
import { exchangeRaw, type RawExchange } from './raw-exchange.ts';
import type { RecordingUpstream } from './recording-upstream.ts';
import { parseRequestStream } from './reference-parser.ts';

/** One fuzz case: raw request bytes split into writes, sent to one listener. */
export interface HttpCase {
  listener: Listener;
  /** Latin1 strings (one char per byte), each sent as its own write. */
  parts: string[];
}

export interface Rig {
  sidecar: SidecarProcess;
  upstream: RecordingUpstream;
}

export interface CaseResult extends Verdict {
  exchange: RawExchange;
}

/** Pause between writes: long enough for separate packets, short enough for hundreds of cases. */
const GAP_MS = 2;
/** How long an unfinished request is given before the client gives up. */
const IDLE_MS = 150;
/** How long the proxy is given to abort an upstream request after its client left. */
const ABORT_GRACE_MS = 2_000;

let probes = 0;

/**
 * Sends the case, then a normal request on a fresh connection (the sidecar must still be alive and forwarding),
 * and judges everything the client and the upstream saw in between.
 */
export async function runCase(rig: Rig, fuzzCase: HttpCase): Promise<CaseResult> {
  const { sidecar, upstream } = rig;
  const port = fuzzCase.listener === 'inbound' ? sidecar.inboundPort : sidecar.outboundPort;
  const reference = parseRequestStream(fuzzCase.parts.join(''));
  const mark = upstream.mark();
  const owed = reference.requests.length + (reference.tail.kind === 'end' ? 0 : 1);
  const exchange = await exchangeRaw(port, fuzzCase.parts, { gapMs: GAP_MS, expectedResponses: owed, idleMs: IDLE_MS });
  await upstream.settle(ABORT_GRACE_MS);
  const openPartials = upstream.openPartials();

  const problems: string[] = [];
  const probePath = `/__alive/${++probes}`;
  try {
    const alive = await send(port, { path: probePath, headers: { host: 'raw' }, timeoutMs: 5_000 });
    if (alive.status !== 200 || !alive.body.startsWith('recorded ')) problems.push(`afterwards a normal request got ${alive.status} ${JSON.stringify(alive.body.slice(0, 120))}`);
  } catch (error) {
    problems.push(`afterwards a normal request failed: ${(error as Error).message}`);
  }
  if (sidecar.child.exitCode !== null || sidecar.child.signalCode !== null) problems.push(`the sidecar exited (${sidecar.child.exitCode ?? sidecar.child.signalCode})`);

  const events = upstream.eventsSince(mark).filter((event) => !(event.kind === 'request' && event.request.target === probePath));
  const verdict = judge({ reference, listener: fuzzCase.listener, exchange, events, openPartials });
  return { ...verdict, problems: [...verdict.problems, ...problems], exchange };
}

/** A failure message that shows the case as a ready-to-save corpus file. */
export function describeFailure(fuzzCase: HttpCase, result: CaseResult): string {
  const responses = result.exchange.responses.map((r) => `${r.status}${r.closes ? ' (close)' : ''} ${JSON.stringify(r.body.slice(0, 80))}`);
  return [
    ...result.problems,
    `responses: ${responses.join('; ') || 'none'}${result.exchange.closedByServer ? ', then closed' : ''}${result.exchange.timedOut ? ', timed out' : ''}`,
    `corpus entry: ${JSON.stringify({ description: '', listeners: [fuzzCase.listener], parts: fuzzCase.parts, expect: 'either' })}`,
  ].join('\n');
}
