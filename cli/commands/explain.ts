import type { RequestRecord } from '../../sidecar/observability/recent-requests.ts';
import { REASONS, type ReasonFlag } from '../../sidecar/http/reason.ts';
import type { Command } from '../command.ts';
import { describeFlags, parseFlags, type FlagSpec } from '../options.ts';
import { DEFAULT_STATUS_URL } from './status.ts';

const FLAGS: Record<string, FlagSpec> = {
  admin: { type: 'string', env: 'OUTRIGGER_ADMIN_ADDRESSES', description: 'sidecar admin addresses to ask, comma-separated (default: every member the control plane lists, else 127.0.0.1:15000)', placeholder: 'HOST:PORT,…' },
  url: { type: 'string', env: 'OUTRIGGER_STATUS_URL', default: DEFAULT_STATUS_URL, description: 'HTTP API of a control-plane replica, to find every sidecar', placeholder: 'URL' },
  json: { type: 'boolean', description: 'print what each sidecar remembers as JSON' },
};

const USAGE = `outrigger explain REQUEST_ID [--admin HOST:PORT,…] [--url URL] [--json]

Says what happened to one request, hop by hop: which sidecar saw it, which route
matched, where it was sent, how many attempts and which endpoints, and why it
failed if it did. The id is the request's x-request-id (every sidecar adds one
and passes it on; the access log and failed replies show it). Each sidecar keeps
its last 1000 requests, so ask soon after.

Flags:
${describeFlags(FLAGS)}`;

interface Hop {
  member: string;
  record: RequestRecord;
}

interface MembersBody {
  members?: { name: string; role: string; status: string; api?: string }[];
}

export const explainCommand: Command = {
  name: 'explain',
  usage: USAGE,
  async run(args, io) {
    let flags;
    // The id comes first: `outrigger explain ID [flags]`.
    const id = args[0] !== undefined && !args[0].startsWith('-') ? args[0] : undefined;
    try {
      flags = parseFlags(id === undefined ? args : args.slice(1), FLAGS);
    } catch (error) {
      io.err(`outrigger explain: ${(error as Error).message}\nrun "outrigger explain --help" for the flags`);
      return 2;
    }
    if (flags.help) {
      io.out(USAGE);
      return 0;
    }
    if (!id) {
      io.err('outrigger explain: name a request id (its x-request-id)\nrun "outrigger explain --help" for the flags');
      return 2;
    }
    const sidecars = typeof flags.admin === 'string' ? flags.admin.split(',').map((a) => ({ member: a.trim(), address: a.trim() })) : await sidecarsFromControlPlane(String(flags.url));
    const hops: Hop[] = [];
    let reached = 0;
    await Promise.all(
      sidecars.map(async ({ member, address }) => {
        try {
          const response = await fetch(`http://${address}/requests/${encodeURIComponent(id)}`, { signal: AbortSignal.timeout(3_000) });
          reached++;
          if (response.status === 200) hops.push({ member, record: (await response.json()) as RequestRecord });
        } catch {
          // An unreachable sidecar is reported in the summary below.
        }
      }),
    );
    if (flags.json) {
      io.out(JSON.stringify(hops, null, 2));
      return hops.length > 0 ? 0 : 1;
    }
    if (hops.length === 0) {
      io.err(`outrigger explain: no sidecar remembers request ${id} (asked ${sidecars.length}, ${reached} answered); check the id, or ask sooner: each sidecar keeps its last 1000 requests`);
      return 1;
    }
    io.out(formatExplanation(id, hops));
    return 0;
  },
};

/** The control plane's member list gives each sidecar's admin address; without one, the default local sidecar. */
async function sidecarsFromControlPlane(url: string): Promise<{ member: string; address: string }[]> {
  try {
    const response = await fetch(`${url.replace(/\/$/, '')}/members`, { signal: AbortSignal.timeout(3_000) });
    const body = (await response.json()) as MembersBody;
    const sidecars = (body.members ?? []).filter((m) => m.role === 'sidecar' && m.status === 'alive' && m.api).map((m) => ({ member: m.name, address: m.api as string }));
    if (sidecars.length > 0) return sidecars;
  } catch {
    // No control plane here: fall back to the sidecar on the default admin port.
  }
  return [{ member: 'local sidecar', address: '127.0.0.1:15000' }];
}

/** Hops in the order the request took them: the caller's outbound sidecar, then the callee's inbound one. */
export function formatExplanation(id: string, hops: readonly Hop[]): string {
  const ordered = [...hops].sort((a, b) => a.record.at.localeCompare(b.record.at) || (a.record.direction === 'outbound' ? -1 : 1));
  const lines = [`request ${id}: ${ordered[0]?.record.method ?? ''} ${ordered[0]?.record.authority ?? ''}${ordered[0]?.record.path ?? ''}`];
  ordered.forEach(({ member, record }, i) => {
    lines.push('', `${i + 1}. ${record.direction} at ${member} (${record.at})`);
    lines.push(`   route:     ${record.route || '(none matched)'}${record.destination ? ` → Service ${record.destination}` : ''}`);
    if (record.endpoints.length > 0) lines.push(`   attempts:  ${record.attempts} (${record.endpoints.join(', then ')})`);
    else if (record.attempts > 0) lines.push(`   attempts:  ${record.attempts}`);
    lines.push(`   result:    ${record.status} in ${record.durationMs.toFixed(1)} ms${record.flag ? ` — ${record.flag}: ${reasonText(record.flag)}` : ''}`);
    if (record.detail) lines.push(`   detail:    ${record.detail}`);
  });
  const last = ordered[ordered.length - 1]?.record;
  const first = ordered[0]?.record;
  if (first && first.attempts > 1 && first.status < 500) lines.push('', `retried: ${first.attempts - 1} more attempt(s) after a failure, then succeeded`);
  if (last && (last.status >= 500 || last.flag)) lines.push('', `failed at ${ordered[ordered.length - 1]?.member}: ${last.flag ? reasonText(last.flag) : `status ${last.status}`}`);
  return lines.join('\n');
}

function reasonText(flag: string): string {
  return flag in REASONS ? REASONS[flag as ReasonFlag].text : flag;
}
