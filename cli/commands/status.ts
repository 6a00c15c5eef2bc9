import { setTimeout as sleep } from 'node:timers/promises';
import type { MemberStatusRow } from '../../mesh/member-status.ts';
import type { Command, CommandIO } from '../command.ts';
import { describeFlags, parseFlags, type FlagSpec } from '../options.ts';

export const DEFAULT_STATUS_URL = 'http://127.0.0.1:15080';
/** How long one GET /members may take, body included. */
export const STATUS_TIMEOUT_MS = 5000;

/** What a control plane's `GET /members` answers. */
export interface StatusBody {
  /** The newest snapshot any alive member runs; version 0 before any. */
  newest: { version: number; hash: string };
  members: MemberStatusRow[];
  /** The replica that answered. */
  reporter?: string | undefined;
  /** Why that replica's policy files do not build (the last good snapshot keeps serving), one error per line. */
  policyError?: string | null | undefined;
}

const FLAGS: Record<string, FlagSpec> = {
  url: { type: 'string', env: 'OUTRIGGER_STATUS_URL', default: DEFAULT_STATUS_URL, description: 'HTTP API of any control-plane replica', placeholder: 'URL' },
  json: { type: 'boolean', description: 'print the reply as JSON instead of a table' },
  watch: { type: 'string', description: 'print again every SECONDS until Ctrl-C', placeholder: 'SECONDS' },
};

const USAGE = `outrigger status [--url URL] [--json] [--watch SECONDS]

Shows every member of the mesh and whether it runs the newest config, as
istioctl proxy-status does. Asks a control-plane replica (GET URL/members) and
prints one row per member:

  NAME     gossip member name
  ROLE     sidecar or control-plane
  STATE    gossip state: alive, suspect, dead or left
  SERVICE  the Service a sidecar fronts
  ADDRESS  where mesh traffic for that Service reaches the sidecar
  ZONE     the member's zone
  CONFIG   version and content hash of the config snapshot it runs
  SYNC     synced (runs the newest snapshot), stale (runs an older one),
           rejected (refused a newer one: the reason follows the table) or
           none (no snapshot yet)

then a summary line. Exit 0 when the control plane answered, 1 when it cannot
be reached or does not answer 200 within ${STATUS_TIMEOUT_MS / 1000} s, 2 on a usage error.

Flags:
${describeFlags(FLAGS)}
${'  -h, --help'.padEnd(30)} print this help`;

export const statusCommand: Command = {
  name: 'status',
  summary: 'show every mesh member and whether its config is in sync',
  usage: USAGE,
  async run(args, io) {
    let flags;
    try {
      flags = parseFlags(args, FLAGS);
    } catch (error) {
      return usageError(io, (error as Error).message);
    }
    if (flags.help) {
      io.out(USAGE);
      return 0;
    }
    const base = String(flags.url);
    let endpoint: string;
    try {
      endpoint = membersUrl(base);
    } catch (error) {
      return usageError(io, (error as Error).message);
    }
    let seconds: number | undefined;
    if (flags.watch !== undefined) {
      seconds = Number(flags.watch);
      if (typeof flags.watch !== 'string' || flags.watch.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
        return usageError(io, `--watch must be a number of seconds above 0, got "${String(flags.watch)}"`);
      }
    }
    const json = flags.json === true;
    if (seconds === undefined) return show(endpoint, json, io, undefined);
    return watch(seconds, endpoint, json, io);
  },
};

/** `URL/members`; the URL must be http(s) and may carry a path prefix. */
export function membersUrl(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new Error(`--url must be an http:// or https:// URL, e.g. ${DEFAULT_STATUS_URL}, got "${base}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--url must be an http:// or https:// URL, got "${base}"`);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/members`;
  return url.href;
}

/** Fetches and prints once; 0 when the control plane answered, 1 otherwise. */
async function show(endpoint: string, json: boolean, io: CommandIO, stop: AbortSignal | undefined): Promise<number> {
  const result = await fetchStatus(endpoint, stop);
  if (stop?.aborted) return 0;
  if (!result.ok) {
    io.err(`outrigger status: cannot reach the control plane at ${endpoint}: ${result.error}`);
    return 1;
  }
  io.out(json ? JSON.stringify(result.json, null, 2) : formatStatusTable(result.body));
  return 0;
}

/** Prints every `seconds` until SIGINT or SIGTERM; an unreachable control plane is reported and tried again. */
async function watch(seconds: number, endpoint: string, json: boolean, io: CommandIO): Promise<number> {
  const stopper = new AbortController();
  const stop = (): void => stopper.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    while (!stopper.signal.aborted) {
      if (!json) io.out(`Every ${seconds}s: ${endpoint}   ${new Date().toISOString()}`);
      await show(endpoint, json, io, stopper.signal);
      if (stopper.signal.aborted) break;
      if (!json) io.out('');
      await sleep(seconds * 1000, undefined, { signal: stopper.signal }).catch(() => undefined);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}

type FetchResult = { ok: true; json: unknown; body: StatusBody } | { ok: false; error: string };

async function fetchStatus(endpoint: string, stop: AbortSignal | undefined): Promise<FetchResult> {
  const timeout = AbortSignal.timeout(STATUS_TIMEOUT_MS);
  const signal = stop ? AbortSignal.any([timeout, stop]) : timeout;
  let status: number;
  let statusText: string;
  let text: string;
  try {
    const response = await fetch(endpoint, { signal, headers: { accept: 'application/json' } });
    status = response.status;
    statusText = response.statusText;
    text = await response.text();
  } catch (error) {
    return { ok: false, error: timeout.aborted ? `no answer within ${STATUS_TIMEOUT_MS / 1000} s` : describeFetchError(error) };
  }
  if (status !== 200) {
    const detail = oneLine(errorDetail(text));
    const hint = status === 404 ? ' (is the URL a control plane\'s API address?)' : '';
    return { ok: false, error: `HTTP ${status}${statusText ? ` ${statusText}` : ''}${detail ? `: ${detail}` : ''}${hint}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: `the reply is not JSON: ${oneLine(text) || 'empty body'}` };
  }
  if (!isStatusBody(json)) return { ok: false, error: 'the reply is not a member list (expected {"newest": {...}, "members": [...]})' };
  return { ok: true, json, body: json };
}

function isStatusBody(value: unknown): value is StatusBody {
  if (typeof value !== 'object' || value === null) return false;
  const { newest, members } = value as Record<string, unknown>;
  if (typeof newest !== 'object' || newest === null || typeof (newest as Record<string, unknown>).version !== 'number') return false;
  return Array.isArray(members) && members.every((m) => typeof m === 'object' && m !== null && typeof (m as Record<string, unknown>).name === 'string');
}

/** The `error` of a JSON error reply, else the body itself. */
function errorDetail(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as Record<string, unknown>).error === 'string') return (parsed as { error: string }).error;
  } catch {
    // not JSON: show the text
  }
  return text;
}

/** fetch() says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a TLS error) is in its cause. */
function describeFetchError(error: unknown): string {
  let cause: unknown = error;
  while (cause instanceof Error && cause.cause !== undefined) cause = cause.cause;
  if (cause instanceof AggregateError && cause.errors.length > 0) cause = cause.errors[0];
  if (cause instanceof Error && cause.message === 'bad port') return 'fetch() refuses this port (it is on the Fetch standard\'s list of blocked ports)';
  if (cause instanceof Error) return cause.message || (cause as NodeJS.ErrnoException).code || cause.name;
  return String(cause);
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

const COLUMNS = ['NAME', 'ROLE', 'STATE', 'SERVICE', 'ADDRESS', 'ZONE', 'CONFIG', 'SYNC'] as const;

/** `v12 3f9a1c2b`, or `-` before any snapshot. */
export function formatConfig(version: number, hash: string): string {
  return version > 0 ? `v${version}${hash ? ` ${hash.slice(0, 8)}` : ''}` : '-';
}

/** The table `outrigger status` prints: a row per member, a line per rejection, a summary line. Pure. */
export function formatStatusTable(body: StatusBody): string {
  const lines: string[] = [];
  if (body.members.length > 0) {
    const rows: string[][] = [
      [...COLUMNS],
      ...body.members.map((m) => [m.name, m.role, m.status, m.service, m.address, m.zone, formatConfig(m.configVersion, m.configHash), m.sync].map(cell)),
    ];
    const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
    for (const row of rows) lines.push(row.map((value, i) => value.padEnd(widths[i]!)).join('   ').trimEnd());
  }

  const rejected = body.members.filter((m) => m.sync === 'rejected');
  if (rejected.length > 0) {
    lines.push('');
    for (const m of rejected) {
      const running = m.configVersion > 0 ? `it still runs ${formatConfig(m.configVersion, m.configHash)}` : 'it runs none yet';
      lines.push(`${m.name} rejected a newer config (${running}): ${m.error || 'no reason given'}`);
    }
  }

  if (typeof body.policyError === 'string' && body.policyError !== '') {
    lines.push('');
    lines.push(`${body.reporter ? `${body.reporter}: ` : ''}the policy files do not build; the last good config keeps serving:`);
    for (const line of body.policyError.split('\n')) lines.push(`  ${line}`);
  }

  if (lines.length > 0) lines.push('');
  lines.push(summaryLine(body));
  return lines.join('\n');
}

function summaryLine(body: StatusBody): string {
  const total = body.members.length;
  const counts = (values: string[], order: readonly string[], label: (value: string) => string): string[] => {
    const tally = new Map<string, number>();
    for (const value of values) tally.set(value, (tally.get(value) ?? 0) + 1);
    const known = order.filter((value) => tally.has(value));
    const others = [...tally.keys()].filter((value) => !order.includes(value)).sort();
    return [...known, ...others].map((value) => `${tally.get(value)} ${label(value)}`);
  };
  const sync = counts(body.members.map((m) => m.sync), ['synced', 'stale', 'rejected', 'none'], (s) => (s === 'none' ? 'without config' : s));
  const gossip = counts(body.members.filter((m) => m.status !== 'alive').map((m) => m.status), ['suspect', 'dead', 'left'], (s) => s);
  const newest = body.newest.version > 0 ? `newest config v${body.newest.version}` : 'no config yet';
  const head = `${total} ${total === 1 ? 'member' : 'members'}${sync.length > 0 ? `: ${sync.join(', ')}` : ''}`;
  return [head, gossip.join(', '), newest].filter(Boolean).join('; ');
}

function cell(value: string | number | undefined | null): string {
  return value === undefined || value === null || value === '' ? '-' : String(value);
}

function usageError(io: CommandIO, message: string): number {
  io.err(`outrigger status: ${message}`);
  io.err('run "outrigger status --help" for usage');
  return 2;
}
