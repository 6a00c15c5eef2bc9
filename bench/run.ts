/**
 * Outrigger bench: the same wrk load against the upstream directly, one and two Outrigger sidecars,
 * nginx, nginx → nginx, HAProxy, node-http-proxy, @fastify/reply-from and an undici pass-through,
 * interleaved in one run. Writes a Markdown report to stdout and, between its markers, into bench/RESULTS.md.
 *
 *   npm run bench                 (= npx node bench/run.ts; ~5 min with defaults)
 *   npm run bench -- --quick      (1 s runs: smoke check)
 *   npm run bench -- --help
 */
import { writeFileSync } from 'node:fs';
import { writeResultsSection } from './results-file.ts';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseFlags, USAGE, UsageError, type Flags } from './args.ts';
import { cpuModel, loadAverage, onPath, toolVersions } from './environment.ts';
import {
  clockTicksPerSecond,
  cpuTicks,
  machineBusyTicks,
  peakRssKiB,
  processTree,
  resetPeakRss,
  selfAndReapedChildrenTicks,
} from './proc-stats.ts';
import { cleanup, httpGet, installCleanup, isInterrupted } from './procs.ts';
import { renderMarkdown, type Measurement, type ReportInput } from './report.ts';
import { directTarget } from './targets/direct.ts';
import { haproxyTarget } from './targets/haproxy.ts';
import { httpProxyTarget } from './targets/http-proxy.ts';
import { nginxTarget, nginxTwoTarget } from './targets/nginx.ts';
import { cliPath, measureTimeToReady, sidecarPoliciesTarget, sidecarTarget, sidecarTwoTarget, UPSTREAM_SERVICE } from './targets/outrigger.ts';
import { replyFromTarget } from './targets/reply-from.ts';
import { SkipTarget, type RunningTarget, type TargetContext, type TargetDef } from './targets/types.ts';
import { undiciTarget } from './targets/undici.ts';
import { BODIES, startUpstream, type RunningUpstream } from './upstream.ts';
import { errorCount, runWrk } from './wrk.ts';

/** Display order of the rows. */
const ALL_TARGETS: TargetDef[] = [
  directTarget,
  sidecarTarget,
  sidecarPoliciesTarget,
  sidecarTwoTarget,
  nginxTarget,
  nginxTwoTarget,
  haproxyTarget,
  httpProxyTarget,
  replyFromTarget,
  undiciTarget,
];

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Capital H: wrk only skips its own Host header when the -H name is exactly "Host"; "host" would send two (nginx: 400).
const HEADERS = { Host: UPSTREAM_SERVICE };
const PAUSE_BETWEEN_RUNS_MS = 250;

const log = (message: string): void => {
  process.stderr.write(`bench: ${message}\n`);
};
const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function commandLine(argv: string[]): string {
  const quoted = argv.map((a) => (/^[\w.,=/:+@-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
  if (process.env['npm_lifecycle_event'] === 'bench') return `npm run bench${argv.length > 0 ? ` -- ${quoted}` : ''}`;
  return `npx node bench/run.ts${argv.length > 0 ? ` ${quoted}` : ''}`;
}

function selectTargets(flags: Flags): TargetDef[] {
  if (flags.only === undefined) return ALL_TARGETS;
  const unknown = flags.only.filter((id) => !ALL_TARGETS.some((t) => t.id === id));
  if (unknown.length > 0) {
    throw new UsageError(`unknown target(s) ${unknown.join(', ')}; known: ${ALL_TARGETS.map((t) => t.id).join(', ')}`);
  }
  return ALL_TARGETS.filter((t) => flags.only?.includes(t.id));
}

/** Both bodies must come back 200 with the right length before a target is measured. */
async function sanityCheck(target: RunningTarget, flags: Flags): Promise<string | null> {
  for (const body of new Set(flags.shapes.map((s) => s.body))) {
    try {
      const res = await httpGet(`${target.url}/${body}`, HEADERS);
      if (res.status !== 200 || res.bodyBytes !== BODIES[body]) {
        return `GET /${body} answered ${res.status} with ${res.bodyBytes} bytes (want 200 with ${BODIES[body]})`;
      }
    } catch (error) {
      return `GET /${body} failed: ${reasonOf(error)}`;
    }
  }
  return null;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const flags = parseFlags(argv, REPO_ROOT);
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  installCleanup();
  const startedAt = Date.now();
  const loadStart = loadAverage();
  const tools = new Set(['wrk', 'nginx', 'haproxy'].filter(onPath));
  for (const tool of ['wrk', 'nginx', 'haproxy']) if (!tools.has(tool)) log(`${tool} is not installed: rows that need it are skipped`);

  const selected = selectTargets(flags);
  const skipped: ReportInput['skipped'] = [];
  const failures: string[] = [];
  const notes: string[] = [];
  const measurements: Measurement[] = [];
  const skip = (def: TargetDef, reason: string): void => {
    log(`skip ${def.label}: ${reason}`);
    skipped.push({ label: def.label, reason });
  };

  const upstream: RunningUpstream = await startUpstream(tools.has('nginx'), process.execPath, REPO_ROOT);
  log(`upstream: ${upstream.kind} on ${upstream.address}`);
  const ctx: TargetContext = {
    upstream,
    tools,
    options: {
      repoRoot: REPO_ROOT,
      nodeBin: process.execPath,
      sidecarNodeFlags: flags.sidecarNodeFlags,
      sidecarConfigExtra: flags.sidecarConfigExtra,
      readyTimeoutMs: 5000,
    },
  };

  // Time to ready, before any load (the machine is as quiet as it gets).
  const wantsSidecar = selected.some((t) => t.id.startsWith('sidecar'));
  let timeToReadyMs: number[] | string = 'no sidecar target selected';
  let sidecarBroken: string | undefined;
  if (wantsSidecar && flags.readyStarts > 0) {
    log(`time to ready: ${flags.readyStarts} sidecar starts...`);
    try {
      timeToReadyMs = await measureTimeToReady(ctx, flags.readyStarts);
    } catch (error) {
      timeToReadyMs = reasonOf(error).split('\n')[0] ?? 'failed';
      sidecarBroken = reasonOf(error);
    }
  }

  // Start every target once; they stay up (idle) while the others are measured.
  const running = new Map<string, RunningTarget>();
  const defs = new Map<string, TargetDef>();
  for (const def of selected) {
    const missing = [...def.tools, 'wrk'].filter((t) => !tools.has(t));
    if (missing.length > 0) {
      skip(def, `${missing.join(' and ')} not installed`);
      continue;
    }
    if (sidecarBroken !== undefined && def.id.startsWith('sidecar') && !(def.id === 'sidecar-policies' && flags.sidecarConfigExtra === undefined)) {
      skip(def, `${path.relative(REPO_ROOT, cliPath(ctx.options))}: ${sidecarBroken}`);
      continue;
    }
    try {
      log(`starting ${def.label}...`);
      const target = await def.start(ctx);
      const bad = await sanityCheck(target, flags);
      if (bad !== null) {
        await target.stop();
        skip(def, `sanity check failed: ${bad}`);
        continue;
      }
      running.set(def.id, target);
      defs.set(def.id, def);
    } catch (error) {
      skip(def, error instanceof SkipTarget ? error.message : `failed to start: ${reasonOf(error)}`);
    }
  }

  const order = [...running.keys()];
  const runs = order.length * flags.shapes.length * flags.rounds;
  const perRun = flags.durationS + flags.warmupS + PAUSE_BETWEEN_RUNS_MS / 1000 + 0.2;
  const warmUpS = order.length * (flags.initialWarmupS + 0.5);
  if (runs > 0) log(`${order.length} targets × ${flags.shapes.length} shapes × ${flags.rounds} round(s) = ${runs} runs, ≈ ${Math.ceil((warmUpS + runs * perRun) / 60)} min`);

  // A fresh Node process spends its first seconds of load in the JIT and growing its heap (measured: the sidecar's
  // CPU per request in consecutive 2 s windows went 304 → 192 → 169 → 136 µs before it settled). Every target gets
  // the same warm-up once, so the first shape measures steady state, as a long-running proxy serves.
  for (const [id, target] of running) {
    if (flags.initialWarmupS === 0 || isInterrupted()) break;
    const warm = await runWrk({ url: `${target.url}/100b`, connections: 50, threads: flags.wrkThreads, headers: HEADERS, durationS: flags.initialWarmupS });
    const errors = errorCount(warm.errors);
    if (errors > 0) notes.push(`initial warm-up of ${defs.get(id)?.label ?? id}: ${errors} errors ${JSON.stringify(warm.errors)}`);
  }

  const clk = clockTicksPerSecond();
  let peakRssScoped = true;
  const dead = new Set<string>();
  let done = 0;
  for (let round = 0; round < flags.rounds; round++) {
    for (const [si, shape] of flags.shapes.entries()) {
      // Rotate the order per shape and round, so no target is always first (or always right after a heavy one).
      const offset = order.length === 0 ? 0 : (round * flags.shapes.length + si) % order.length;
      for (const id of [...order.slice(offset), ...order.slice(0, offset)]) {
        const target = running.get(id);
        const def = defs.get(id);
        if (isInterrupted()) return 130;
        if (target === undefined || def === undefined || dead.has(id)) continue;
        done++;
        const exited = target.processes.find((p) => p.exitStatus() !== undefined);
        if (exited !== undefined) {
          dead.add(id);
          failures.push(`${def.label}: ${exited.name} exited (${exited.exitStatus()}) before ${shape.name}; its remaining runs skipped. Log: ${exited.logTail(3).replaceAll('\n', ' | ')}`);
          continue;
        }
        const wrkOptions = { url: `${target.url}/${shape.body}`, connections: shape.connections, threads: flags.wrkThreads, headers: HEADERS };
        try {
          if (flags.warmupS > 0) {
            const warm = await runWrk({ ...wrkOptions, durationS: flags.warmupS });
            const errors = errorCount(warm.errors);
            if (errors > 0) notes.push(`warm-up of ${def.label} @ ${shape.name}: ${errors} errors ${JSON.stringify(warm.errors)}`);
          }
          const pids = processTree(target.processes.map((p) => p.pid));
          if (pids.length > 0 && !resetPeakRss(pids)) peakRssScoped = false;
          const upstreamPids = processTree([upstream.proc.pid]);
          const ours = (): number => cpuTicks(pids) + cpuTicks(upstreamPids) + selfAndReapedChildrenTicks();
          const before = cpuTicks(pids);
          const oursBefore = ours();
          const machineBefore = machineBusyTicks();
          const t0 = performance.now();
          const wrk = await runWrk({ ...wrkOptions, durationS: flags.durationS });
          const elapsedS = (performance.now() - t0) / 1000;
          const cpuUs = ((cpuTicks(pids) - before) * 1e6) / clk;
          // CPU the machine spent on anything but wrk, the upstream, the proxy and this harness: the noise level.
          const foreign = machineBusyTicks() - machineBefore - (ours() - oursBefore);
          const m: Measurement = {
            target: id,
            shape: shape.name,
            round,
            wrk,
            cpuUsPerRequest: pids.length > 0 && wrk.requests > 0 ? cpuUs / wrk.requests : undefined,
            peakRssKiB: pids.length > 0 ? peakRssKiB(pids) : undefined,
            othersCpuShare: Math.max(0, foreign) / (clk * elapsedS * os.availableParallelism()),
          };
          measurements.push(m);
          const errors = errorCount(wrk.errors);
          log(
            `[${done}/${runs}] ${shape.name} ${def.label}: ${Math.round(wrk.rps)} req/s, p50 ${Math.round(wrk.latencyUs.p50)} µs, p99 ${Math.round(wrk.latencyUs.p99)} µs` +
              (m.cpuUsPerRequest === undefined ? '' : `, ${m.cpuUsPerRequest.toFixed(1)} µs CPU/req`) +
              `, others' CPU ${(m.othersCpuShare * 100).toFixed(0)}%` +
              (errors > 0 ? `, ${errors} ERRORS ${JSON.stringify(wrk.errors)}` : ''),
          );
        } catch (error) {
          if (isInterrupted()) return 130;
          failures.push(`${def.label} @ ${shape.name}: ${reasonOf(error).split('\n')[0]}`);
          log(`[${done}/${runs}] ${shape.name} ${def.label}: FAILED ${reasonOf(error)}`);
        }
        await sleep(PAUSE_BETWEEN_RUNS_MS);
      }
    }
  }

  for (const target of running.values()) notes.push(...target.notes());
  if (!tools.has('wrk')) notes.push('wrk is not installed: no load was generated.');
  await Promise.all([...running.values()].map((t) => t.stop()));
  await upstream.proc.stop();

  const report: ReportInput = {
    meta: {
      date: new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'),
      cores: os.availableParallelism(),
      cpuModel: cpuModel(),
      kernel: os.release(),
      node: process.version,
      versions: toolVersions(tools, REPO_ROOT),
      upstream: upstream.kind,
      command: commandLine(argv),
      durationS: flags.durationS,
      warmupS: flags.warmupS,
      initialWarmupS: flags.initialWarmupS,
      rounds: flags.rounds,
      wrkThreads: flags.wrkThreads,
      sidecarNodeFlags: flags.sidecarNodeFlags,
      sidecarConfigExtraFile: flags.sidecarConfigExtraFile,
      loadStart,
      loadEnd: loadAverage(),
      peakRssScoped,
      totalSeconds: (Date.now() - startedAt) / 1000,
    },
    targets: selected.filter((t) => running.has(t.id)).map(({ id, label, hops }) => ({ id, label, hops })),
    shapes: flags.shapes,
    measurements,
    skipped,
    failures,
    notes,
    timeToReadyMs,
  };
  const markdown = renderMarkdown(report);
  process.stdout.write(`${markdown}\n`);
  writeResultsSection(flags.out, 'wrk-bench', markdown);
  log(`wrote ${path.relative(process.cwd(), flags.out) || flags.out}`);
  if (flags.json !== undefined) writeFileSync(flags.json, `${JSON.stringify(report, null, 2)}\n`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  if (error instanceof UsageError) console.error(`bench: ${error.message}\n\n${USAGE}`);
  else console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
