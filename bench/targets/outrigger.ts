/**
 * Outrigger sidecars: one, two in series (A outbound → B inbound → app), and one with extra config
 * ("policies on"). Contract:
 *   node dist/outrigger.js sidecar (the bundle, built by `npm run build`; `npm run bench` builds first) --service NAME --app HOST:PORT --inbound P --outbound P --admin P --config FILE
 * ready when GET http://127.0.0.1:ADMIN/ready answers 200; the outbound listener routes by Host.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, startProcess, tempDir, waitFor200, type Managed } from '../procs.ts';
import { runningFrom, SkipTarget, stopAll, type BenchOptions, type TargetContext, type TargetDef } from './types.ts';

/** The Host header wrk sends to every target, so the sidecar's outbound routes to Service `upstream`. */
export const UPSTREAM_SERVICE = 'upstream';

export function cliPath(options: BenchOptions): string {
  return path.join(options.repoRoot, 'dist/outrigger.js');
}

function endpointsYaml(service: string, address: string): string {
  return `apiVersion: outrigger.dev/v1alpha1
kind: ServiceEndpoints
metadata: { name: ${service} }
spec:
  endpoints:
    - address: ${address}
`;
}

let configCount = 0;
function writeConfig(yaml: string, extra: string | undefined): string {
  const file = path.join(tempDir(), `sidecar-config-${++configCount}.yaml`);
  writeFileSync(file, extra === undefined ? yaml : `${yaml}---\n${extra.trimEnd()}\n`);
  return file;
}

export interface Sidecar {
  proc: Managed;
  inbound: number;
  outbound: number;
  admin: number;
  /** ms from spawn to the first 200 from /ready */
  readyMs: number;
}

export interface SidecarSpec {
  name: string;
  service: string;
  app: string;
  /** Where Service `upstream` points in this sidecar's config. */
  upstreamEndpoint: string;
  configExtra?: string | undefined;
}

export async function startSidecar(options: BenchOptions, spec: SidecarSpec): Promise<Sidecar> {
  const cli = cliPath(options);
  if (!existsSync(cli)) throw new SkipTarget(`${path.relative(options.repoRoot, cli)} does not exist yet`);
  const [inbound, outbound, admin] = [await freePort(), await freePort(), await freePort()];
  const config = writeConfig(endpointsYaml(UPSTREAM_SERVICE, spec.upstreamEndpoint), spec.configExtra);
  const args = [
    ...options.sidecarNodeFlags,
    cli,
    'sidecar',
    '--service',
    spec.service,
    '--app',
    spec.app,
    '--inbound',
    String(inbound),
    '--outbound',
    String(outbound),
    '--admin',
    String(admin),
    '--config',
    config,
    '--drain-seconds',
    '0',
  ];
  const started = performance.now();
  const proc = await startProcess(spec.name, options.nodeBin, args, { cwd: options.repoRoot });
  const failed = await waitFor200(`http://127.0.0.1:${admin}/ready`, {
    timeoutMs: options.readyTimeoutMs,
    intervalMs: 5,
    proc,
  });
  const readyMs = performance.now() - started;
  if (failed !== null) {
    const tail = proc.logTail(10);
    await proc.stop();
    throw new SkipTarget(`sidecar not ready: ${failed}${tail === '' ? '' : `\n    ${tail.replaceAll('\n', '\n    ')}`}`);
  }
  return { proc, inbound, outbound, admin, readyMs };
}

/** Spawn → first 200 from /ready, `starts` times (one after the other); each sidecar is stopped right after. */
export async function measureTimeToReady(ctx: TargetContext, starts: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < starts; i++) {
    const sidecar = await startSidecar(ctx.options, {
      name: `sidecar-ready-${i + 1}`,
      service: 'bench-client',
      app: ctx.upstream.address,
      upstreamEndpoint: ctx.upstream.address,
    });
    times.push(sidecar.readyMs);
    await sidecar.proc.stop();
  }
  return times;
}

async function checkRoute(sidecars: Sidecar[], url: string): Promise<void> {
  const failed = await waitFor200(`${url}/100b`, { timeoutMs: 3000, headers: { host: UPSTREAM_SERVICE } });
  if (failed !== null) {
    const tails = sidecars.map((s) => s.proc.logTail(5)).filter((t) => t !== '');
    await stopAll(sidecars.map((s) => s.proc));
    throw new SkipTarget(`sidecar ready but not forwarding: ${failed}${tails.length > 0 ? `\n    ${tails.join('\n    ')}` : ''}`);
  }
}

async function startOne(ctx: TargetContext, name: string, configExtra: string | undefined) {
  const sidecar = await startSidecar(ctx.options, {
    name,
    service: 'bench-client',
    app: ctx.upstream.address,
    upstreamEndpoint: ctx.upstream.address,
    configExtra,
  });
  const url = `http://127.0.0.1:${sidecar.outbound}`;
  await checkRoute([sidecar], url);
  return runningFrom(url, [sidecar.proc]);
}

export const sidecarTarget: TargetDef = {
  id: 'sidecar',
  label: 'Outrigger sidecar',
  hops: 1,
  tools: [],
  start: (ctx) => startOne(ctx, 'sidecar', undefined),
};

export const sidecarPoliciesTarget: TargetDef = {
  id: 'sidecar-policies',
  label: 'Outrigger sidecar (policies on)',
  hops: 1,
  tools: [],
  start(ctx) {
    const extra = ctx.options.sidecarConfigExtra;
    if (extra === undefined) return Promise.reject(new SkipTarget('no --sidecar-config-extra FILE given'));
    return startOne(ctx, 'sidecar-policies', extra);
  },
};

export const sidecarTwoTarget: TargetDef = {
  id: 'sidecar-x2',
  label: 'Outrigger sidecar → sidecar',
  hops: 2,
  tools: [],
  async start(ctx) {
    // B sits beside the app (the upstream); A beside the client, its `upstream` points at B's inbound.
    const b = await startSidecar(ctx.options, {
      name: 'sidecar-b',
      service: UPSTREAM_SERVICE,
      app: ctx.upstream.address,
      upstreamEndpoint: ctx.upstream.address,
    });
    let a: Sidecar;
    try {
      a = await startSidecar(ctx.options, {
        name: 'sidecar-a',
        service: 'bench-client',
        app: ctx.upstream.address,
        upstreamEndpoint: `127.0.0.1:${b.inbound}`,
      });
    } catch (error) {
      await b.proc.stop();
      throw error;
    }
    const url = `http://127.0.0.1:${a.outbound}`;
    await checkRoute([a, b], url);
    return runningFrom(url, [a.proc, b.proc]);
  },
};
