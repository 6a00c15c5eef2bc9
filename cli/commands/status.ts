import { setTimeout as sleep } from 'node:timers/promises';
import type { MemberStatusRow } from '../../mesh/member-status.ts';
import { parseCommandFlags, usageError, type Command, type CommandIO } from '../command.ts';
import { describeFetchError } from '../fetch-error.ts';
import { describeFlags, type FlagSpec } from '../options.ts';

export const DEFAULT_STATUS_URL = 'http://127.0.0.1:15080';
/** How long one GET /members (or /dashboard/api/state) may take, body included. */
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

/** One Service's golden signals over a window, as `GET /dashboard/api/state` gives them. */
export interface StatusSignals {
  windowSeconds: number;
  replicas: number;
  requests: number;
  rps: number;
  /** null without requests. */
  successRate: number | null;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

/** A Service of `GET /dashboard/api/state`; the health fields are absent from older control planes. */
export interface StatusService {
  service: string;
  sidecars?: { alive: number; total: number } | undefined;
  windows: { stable?: StatusSignals | null | undefined };
  ejectedEndpoints?: Array<{ address: string; members: string[] }> | undefined;
  circuits?: Record<string, string> | undefined;
}

/** The services section: the Services, or why there are none to show (an older or unreachable control plane). */
export type ServicesSection = { services: StatusService[] } | { unavailable: string };

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

then a summary line, then one row per Service over the last 60 s (from
URL/dashboard/api/state), as linkerd viz stat does:

  SERVICE   name.namespace
  REPLICAS  sidecars reporting signals / sidecars advertising the Service
  RPS       requests per second
  SUCCESS   share of requests not answered 5xx or failed by the proxy
  P50 P95 P99  latency percentiles

and a line per endpoint some caller's outlier detection has ejected and per
Service whose circuit is open or half-open in some caller. A control plane
without that endpoint gets the members alone and a note. With --json, prints
{"members": <the /members reply>, "services": <the Services, or null>}.

Exit 0 when the control plane answered, 1 when it cannot
be reached or does not answer 200 within ${STATUS_TIMEOUT_MS / 1000} s, 2 on a usage error.

Flags:
${describeFlags(FLAGS)}
${'  -h, --help'.padEnd(30)} print this help`;

export const statusCommand: Command = {
  name: 'status',
  usage: USAGE,
  async run(args, io) {
    const flags = parseCommandFlags(io, this, args, FLAGS);
    if (typeof flags === 'number') return flags;
    const base = String(flags.url);
    let endpoint: StatusEndpoints;
    try {
      endpoint = { members: membersUrl(base), state: stateUrl(base) };
    } catch (error) {
      return usageError(io, 'status', (error as Error).message);
    }
    let seconds: number | undefined;
    if (flags.watch !== undefined) {
      seconds = Number(flags.watch);
      if (typeof flags.watch !== 'string' || flags.watch.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
        return usageError(io, 'status', `--watch must be a number of seconds above 0, got "${String(flags.watch)}"`);
      }
    }
    const json = flags.json === true;
    if (seconds === undefined) return show(endpoint, json, io, undefined);
    return watch(seconds, endpoint, json, io);
  },
};

/** `URL/members`; the URL must be http(s) and may carry a path prefix. */
export function membersUrl(base: string): string {
  return apiUrl(base, 'members');
}

/** `URL/dashboard/api/state`, the dashboard's JSON, which carries the Services' signals. */
export function stateUrl(base: string): string {
  return apiUrl(base, 'dashboard/api/state');
}

interface StatusEndpoints {
  members: string;
  state: string;
}

function apiUrl(base: string, path: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new Error(`--url must be an http:// or https:// URL, e.g. ${DEFAULT_STATUS_URL}, got "${base}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--url must be an http:// or https:// URL, got "${base}"`);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}`;
  return url.href;
}

/** Fetches and prints once; 0 when the control plane answered, 1 otherwise. */
async function show(endpoint: StatusEndpoints, json: boolean, io: CommandIO, stop: AbortSignal | undefined): Promise<number> {
  const [result, services] = await Promise.all([fetchStatus(endpoint.members, stop), fetchServices(endpoint.state, stop)]);
  if (stop?.aborted) return 0;
  if (!result.ok) {
    io.err(`outrigger status: cannot reach the control plane at ${endpoint.members}: ${result.error}`);
    return 1;
  }
  io.out(json ? JSON.stringify({ members: result.json, services: 'services' in services ? services.services : null }, null, 2) : formatStatusTable(result.body, services));
  return 0;
}

/** The Services of the dashboard's state, or why not: never fails the command, as an older control plane lacks it. */
async function fetchServices(endpoint: string, stop: AbortSignal | undefined): Promise<ServicesSection> {
  const result = await fetchJson(endpoint, stop);
  if (result.ok === false && result.status === 404) return { unavailable: `${endpoint} answers 404 (a control plane older than this command?)` };
  if (!result.ok) return { unavailable: `${endpoint}: ${result.error}` };
  if (!isStateBody(result.json)) return { unavailable: `${endpoint}: the reply is not the dashboard state (expected {"services": [...]})` };
  return { services: result.json.services };
}

function isStateBody(value: unknown): value is { services: StatusService[] } {
  if (typeof value !== 'object' || value === null) return false;
  const services = (value as Record<string, unknown>).services;
  return (
    Array.isArray(services) &&
    services.every((s) => typeof s === 'object' && s !== null && typeof (s as Record<string, unknown>).service === 'string' && typeof (s as Record<string, unknown>).windows === 'object' && (s as Record<string, unknown>).windows !== null)
  );
}

/** Prints every `seconds` until SIGINT or SIGTERM; an unreachable control plane is reported and tried again. */
async function watch(seconds: number, endpoint: StatusEndpoints, json: boolean, io: CommandIO): Promise<number> {
  const stopper = new AbortController();
  const stop = (): void => stopper.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    while (!stopper.signal.aborted) {
      if (!json) io.out(`Every ${seconds}s: ${endpoint.members}   ${new Date().toISOString()}`);
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
  const result = await fetchJson(endpoint, stop);
  if (!result.ok) return { ok: false, error: result.status === 404 ? `${result.error} (is the URL a control plane's API address?)` : result.error };
  if (!isStatusBody(result.json)) return { ok: false, error: 'the reply is not a member list (expected {"newest": {...}, "members": [...]})' };
  return { ok: true, json: result.json, body: result.json };
}

async function fetchJson(endpoint: string, stop: AbortSignal | undefined): Promise<{ ok: true; json: unknown } | { ok: false; error: string; status?: number }> {
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
    return { ok: false, status, error: `HTTP ${status}${statusText ? ` ${statusText}` : ''}${detail ? `: ${detail}` : ''}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: `the reply is not JSON: ${oneLine(text) || 'empty body'}` };
  }
  return { ok: true, json };
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

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

const COLUMNS = ['NAME', 'ROLE', 'STATE', 'SERVICE', 'ADDRESS', 'ZONE', 'CONFIG', 'SYNC'] as const;

/** `v12 3f9a1c2b`, or `-` before any snapshot. */
export function formatConfig(version: number, hash: string): string {
  return version > 0 ? `v${version}${hash ? ` ${hash.slice(0, 8)}` : ''}` : '-';
}

/**
 * The table `outrigger status` prints: a row per member, a line per rejection, a summary line, then, when given, the
 * services section (a row per Service, a line per ejected endpoint and per circuit not closed, or a note why there
 * is none). Pure.
 */
export function formatStatusTable(body: StatusBody, services?: ServicesSection): string {
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
  if (services) lines.push('', ...formatServices(services));
  return lines.join('\n');
}

const SERVICE_COLUMNS = ['SERVICE', 'REPLICAS', 'RPS', 'SUCCESS', 'P50', 'P95', 'P99'] as const;

/** The services section: a row per Service over the stable window, then the ejections and circuits not closed. */
export function formatServices(section: ServicesSection): string[] {
  if ('unavailable' in section) return [`services not shown: ${section.unavailable}`];
  if (section.services.length === 0) return ['no Services yet: no sidecar has joined or reported'];
  const rows: string[][] = [[...SERVICE_COLUMNS]];
  let windowSeconds: number | undefined;
  for (const svc of section.services) {
    const w = svc.windows.stable ?? null;
    windowSeconds ??= w?.windowSeconds;
    const replicas = `${w?.replicas ?? 0}/${svc.sidecars?.total ?? '-'}`;
    if (!w) {
      rows.push([svc.service, replicas, '-', '-', '-', '-', '-']);
      continue;
    }
    const idle = w.requests === 0;
    rows.push([svc.service, replicas, formatRps(w.rps), w.successRate === null ? '-' : formatPercent(w.successRate), idle ? '-' : formatMs(w.p50Ms), idle ? '-' : formatMs(w.p95Ms), idle ? '-' : formatMs(w.p99Ms)]);
  }
  const widths = SERVICE_COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) => row.map((value, i) => value.padEnd(widths[i]!)).join('   ').trimEnd());
  const health: string[] = [];
  for (const svc of section.services) {
    for (const e of svc.ejectedEndpoints ?? []) health.push(`${svc.service}: endpoint ${e.address} ejected by ${e.members.join(', ')}`);
    for (const state of ['open', 'half-open']) {
      const members = Object.entries(svc.circuits ?? {})
        .filter(([, s]) => s === state)
        .map(([m]) => m)
        .sort();
      if (members.length > 0) health.push(`${svc.service}: circuit ${state} in ${members.join(', ')}`);
    }
  }
  const count = section.services.length;
  const footer = `${count} ${count === 1 ? 'Service' : 'Services'}${windowSeconds ? ` over the last ${windowSeconds} s` : ''}${health.length > 0 ? `; ${health.length} health ${health.length === 1 ? 'warning' : 'warnings'}` : ''}`;
  return [...lines, ...(health.length > 0 ? ['', ...health] : []), '', footer];
}

function formatRps(rps: number): string {
  return rps >= 100 ? rps.toFixed(0) : rps >= 10 ? rps.toFixed(1) : rps.toFixed(2);
}

function formatPercent(rate: number): string {
  return `${(rate * 100).toFixed(2)}%`;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : ms >= 10 ? `${ms.toFixed(0)}ms` : `${ms.toFixed(1)}ms`;
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

