import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { GossipStats } from '../gossip/gossip-stats.ts';
import type { MeshMember } from '../mesh/mesh-member.ts';
import { memberStatusRows } from '../mesh/member-status.ts';
import type { SignalCollector } from '../mesh/signals-collector.ts';
import type { SnapshotSync } from '../mesh/snapshot-sync.ts';
import type { AutoscalingSignal } from '../policy/schema/autoscaling-signal.ts';
import { registerAutoscalingMetrics } from './autoscaling/index.ts';
import { decodeSignedSnapshot, decodeSnapshotPayload } from '../policy/snapshot/snapshot.ts';

const { createServer } = process.getBuiltinModule('node:http');

export interface ApiContext {
  name: string;
  member: MeshMember;
  sync: SnapshotSync;
  lastBuildError: () => string | undefined;
  /** The autoscaling routes (external metrics API, KEDA JSON, recommendations); true when handled. */
  extraRoutes?: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  collector?: SignalCollector | undefined;
  autoscalingPolicies?: (() => readonly AutoscalingSignal[]) | undefined;
}

/**
 * The control plane's HTTP API: `/members` (every member's gossip and sync state, what `outrigger status` reads),
 * `/snapshot` (the snapshot in force), `/metrics` (Prometheus), `/healthz` and `/readyz` (a snapshot is in force).
 */
export function createApiServer(context: ApiContext): Server {
  const metrics = controlPlaneMetrics(context);
  return createServer((req, res) => {
    if (context.extraRoutes?.(req, res)) return;
    void route(context, metrics, req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: error instanceof Error ? error.message : String(error) });
      else res.destroy();
    });
  });
}

export function listenApi(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

async function route(context: ApiContext, metrics: Registry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'only GET' });
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  switch (path) {
    case '/healthz':
      return send(res, 200, { ok: true });
    case '/readyz':
      return context.sync.hasSnapshot ? send(res, 200, { ok: true, version: context.sync.state.version }) : send(res, 503, { ok: false, reason: 'no snapshot yet' });
    case '/members':
      return send(res, 200, membersBody(context));
    case '/snapshot':
      return send(res, context.sync.hasSnapshot ? 200 : 404, snapshotBody(context));
    case '/metrics':
      res.writeHead(200, { 'content-type': metrics.contentType });
      res.end(await metrics.metrics());
      return;
    default:
      return send(res, 404, { error: `no such path ${path}`, paths: ['/members', '/snapshot', '/metrics', '/healthz', '/readyz', '/autoscaling/services', '/autoscaling/recommendations', '/autoscaling/keda/{namespace}/{service}', '/apis/external.metrics.k8s.io/v1beta1'] });
  }
}

function membersBody(context: ApiContext): unknown {
  const rows = memberStatusRows(context.member.memberlist.allMembers());
  let newest = { version: 0, hash: '' };
  for (const row of rows) {
    if (row.status === 'alive' && (row.configVersion > newest.version || (row.configVersion === newest.version && row.configHash > newest.hash))) {
      newest = { version: row.configVersion, hash: row.configHash };
    }
  }
  return { reporter: context.name, newest, policyError: context.lastBuildError(), members: rows };
}

function snapshotBody(context: ApiContext): unknown {
  const bytes = context.sync.currentBytes;
  if (!bytes) return { error: 'no snapshot yet', policyError: context.lastBuildError() };
  const signed = decodeSignedSnapshot(bytes);
  const snapshot = decodeSnapshotPayload(signed.payload);
  return {
    version: snapshot.version,
    hash: snapshot.hash,
    keyId: signed.keyId,
    bytes: bytes.length,
    files: snapshot.files.map((f) => ({ name: f.name, bytes: Buffer.byteLength(f.text) })),
    policyError: context.lastBuildError(),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function controlPlaneMetrics(context: ApiContext): Registry {
  const registry = new Registry();
  const memberlist = context.member.memberlist;
  new Gauge({
    name: 'outrigger_mesh_members',
    help: 'Members this replica knows, by role, gossip state and config sync state.',
    labelNames: ['role', 'state', 'sync'],
    registers: [registry],
    collect() {
      this.reset();
      for (const row of memberStatusRows(memberlist.allMembers())) this.inc({ role: row.role, state: row.status, sync: row.sync });
    },
  });
  new Gauge({
    name: 'outrigger_config_version',
    help: 'Version of the snapshot this replica runs (0: none).',
    registers: [registry],
    collect() {
      this.set(context.sync.state.version);
    },
  });
  new Gauge({
    name: 'outrigger_gossip_health_score',
    help: "Lifeguard local health score: 0 is healthy; timeouts are scaled by score + 1.",
    registers: [registry],
    collect() {
      this.set(memberlist.healthScore);
    },
  });
  const counters: Array<[keyof GossipStats, string]> = [
    ['packetsSent', 'Gossip packets sent.'],
    ['packetsReceived', 'Gossip packets received.'],
    ['packetsUnauthenticated', 'Gossip packets dropped for failing authentication.'],
    ['packetsMalformed', 'Gossip packets or stream messages dropped as malformed.'],
    ['probesFailed', 'Probes that found their target silent.'],
    ['suspicionsRaised', 'Members this replica began to suspect.'],
    ['refutations', 'Suspicions of this replica it refuted.'],
    ['membersDeclaredDead', 'Members declared dead.'],
  ];
  for (const [field, help] of counters) {
    new Counter({
      name: `outrigger_gossip_${field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_total`,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(memberlist.stats[field]);
      },
    });
  }
  if (context.collector && context.autoscalingPolicies) {
    const collector = context.collector;
    registerAutoscalingMetrics(registry, { source: collector, policies: context.autoscalingPolicies, stats: () => collector.stats });
  }
  return registry;
}
