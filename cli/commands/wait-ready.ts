import { setTimeout as sleep } from 'node:timers/promises';
import { parseCommandFlags, usageError, type Command } from '../command.ts';
import { describeFetchError } from '../fetch-error.ts';
import { describeFlags, type FlagSpec } from '../options.ts';

export const DEFAULT_READY_URL = 'http://127.0.0.1:15000/ready';
/** Between two asks: Istio's `pilot-agent wait` asks every 500 ms; a sidecar is usually ready in about 0.3 s. */
export const POLL_INTERVAL_MS = 100;

const FLAGS: Record<string, FlagSpec> = {
  url: { type: 'string', env: 'OUTRIGGER_READY_URL', default: DEFAULT_READY_URL, description: "the sidecar's readiness endpoint", placeholder: 'URL' },
  timeout: { type: 'string', default: '120', description: 'give up after this many seconds', placeholder: 'SECONDS' },
};

const USAGE = `outrigger wait-ready [--url URL] [--timeout SECONDS]

Waits until the sidecar answers 200 on its readiness endpoint, asking every
${POLL_INTERVAL_MS} ms, as Istio's \`pilot-agent wait\` does. The injector runs it as the
proxy container's postStart hook in container mode, so Kubernetes starts the
app's containers only once the proxy can carry their traffic.

Exit 0 once ready, 1 when the timeout passes first (with the last answer or
error), 2 on a usage error.

Flags:
${describeFlags(FLAGS)}
${'  -h, --help'.padEnd(30)} print this help`;

export const waitReadyCommand: Command = {
  name: 'wait-ready',
  usage: USAGE,
  async run(args, io) {
    const flags = parseCommandFlags(io, this, args, FLAGS);
    if (typeof flags === 'number') return flags;
    const url = String(flags.url);
    if (!/^https?:\/\//.test(url)) return usageError(io, 'wait-ready', `--url must be an http(s) URL, got "${url}"`);
    const seconds = Number(flags.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) return usageError(io, 'wait-ready', `--timeout must be a number of seconds above 0, got "${String(flags.timeout)}"`);

    const started = performance.now();
    const deadline = started + seconds * 1000;
    let last = 'no answer yet';
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(Math.ceil(Math.min(2_000, left))) });
        await response.body?.cancel();
        if (response.status === 200) {
          io.out(`ready after ${Math.round(performance.now() - started)} ms`);
          return 0;
        }
        last = `answered ${response.status}`;
      } catch (error) {
        // An ask cut short by the overall deadline says nothing new: keep what the endpoint said before.
        const cutByDeadline = left < 2_000 && error instanceof DOMException && error.name === 'TimeoutError';
        if (!cutByDeadline) last = describeFetchError(error);
      }
      await sleep(Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - performance.now())));
    }
    io.err(`outrigger wait-ready: ${url} not ready after ${seconds} s (last: ${last})`);
    return 1;
  },
};
