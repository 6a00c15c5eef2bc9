import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MemberView } from '../../gossip/member.ts';
import { memberStatusRows } from '../../mesh/member-status.ts';
import type { ServiceEdge, ServiceSignals, UpstreamServiceHealth } from '../../mesh/signals-aggregate.ts';
import type { WindowName } from '../../mesh/signals-report.ts';
import { buildDashboardState, type DashboardState } from './state.ts';

/** What the dashboard reads: the gossip view, the signal collector, the last policy error. */
export interface DashboardContext {
  name: string;
  member: { memberlist: { allMembers(): MemberView[] } };
  collector: {
    services(): string[];
    aggregate(service: string, window: WindowName): ServiceSignals | undefined;
    edges(window: WindowName): ServiceEdge[];
    /** Ejections and circuits per upstream Service; a collector without it shows none. */
    upstreamHealth?(): UpstreamServiceHealth[];
  };
  lastBuildError: () => string | undefined;
  now?: () => number;
}

export type DashboardRoutes = (req: IncomingMessage, res: ServerResponse) => boolean;

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

const STATIC: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};

/** Same-origin only: the page loads nothing from anywhere else, so it works offline and leaks nothing. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function loadStatic(): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const [name, type] of Object.entries(STATIC)) {
    const body = readFileSync(new URL(`./static/${name}`, import.meta.url));
    files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return files;
}

/** The dashboard's state as JSON, built from the context now. */
export function dashboardState(context: DashboardContext): DashboardState {
  const collector = context.collector;
  return buildDashboardState({
    reporter: context.name,
    now: (context.now ?? Date.now)(),
    members: memberStatusRows(context.member.memberlist.allMembers()),
    policyError: context.lastBuildError(),
    signals: collector.services().map((service) => ({ stable: collector.aggregate(service, 'stable'), panic: collector.aggregate(service, 'panic') })),
    edges: { stable: collector.edges('stable'), panic: collector.edges('panic') },
    health: collector.upstreamHealth?.() ?? [],
  });
}

/**
 * The live dashboard: `GET /` and `GET /dashboard/` serve the page, `GET /dashboard/{index.html,dashboard.js,
 * dashboard.css}` its files (read once, at startup; revalidated by ETag), `GET /dashboard/api/state` the JSON it
 * polls every 2 s. Returns false for any other path, leaving it to the API server.
 */
export function createDashboardRoutes(context: DashboardContext): DashboardRoutes {
  const files = loadStatic();
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/' && path !== '/dashboard' && !path.startsWith('/dashboard/')) return false;
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      sendJson(res, 405, { error: 'only GET' }, head, { allow: 'GET, HEAD' });
      return true;
    }
    if (path === '/dashboard/api/state') {
      sendJson(res, 200, dashboardState(context), head);
      return true;
    }
    const name = path === '/' || path === '/dashboard' || path === '/dashboard/' ? 'index.html' : path.slice('/dashboard/'.length);
    const file = files.get(name);
    if (!file) {
      sendJson(res, 404, { error: `no such dashboard file ${path}` }, head);
      return true;
    }
    const headers = {
      'content-type': file.type,
      'cache-control': 'no-cache',
      etag: file.etag,
      'x-content-type-options': 'nosniff',
      ...(name === 'index.html' ? { 'content-security-policy': CSP, 'referrer-policy': 'no-referrer' } : {}),
    };
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    res.writeHead(200, { ...headers, 'content-length': file.body.length });
    res.end(head ? undefined : file.body);
    return true;
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, head: boolean, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(head ? undefined : text);
}
