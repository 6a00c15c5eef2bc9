/** Aggregation of measurements and the Markdown report (stdout and bench/RESULTS.md). */
import type { Shape } from './args.ts';
import { errorCount, type WrkErrors, type WrkResult } from './wrk.ts';

export interface Measurement {
  target: string;
  shape: string;
  round: number;
  wrk: WrkResult;
  /** Proxy CPU (utime + stime, all proxy processes) per completed request; undefined for "direct". */
  cpuUsPerRequest: number | undefined;
  /** Peak RSS of the proxy process(es) in KiB, summed; undefined for "direct". */
  peakRssKiB: number | undefined;
  /** Share of all cores busy with processes other than wrk, the upstream, the proxy and the harness (0–1). */
  othersCpuShare: number;
}

export interface TargetInfo {
  id: string;
  label: string;
  hops: number;
}

export interface ReportInput {
  meta: {
    date: string;
    cores: number;
    cpuModel: string;
    kernel: string;
    node: string;
    versions: string;
    upstream: string;
    command: string;
    durationS: number;
    warmupS: number;
    initialWarmupS: number;
    rounds: number;
    wrkThreads: number;
    sidecarNodeFlags: string[];
    sidecarConfigExtraFile: string | undefined;
    loadStart: string;
    loadEnd: string;
    peakRssScoped: boolean;
    totalSeconds: number;
  };
  targets: TargetInfo[];
  shapes: Shape[];
  measurements: Measurement[];
  skipped: { label: string; reason: string }[];
  failures: string[];
  notes: string[];
  timeToReadyMs: number[] | string;
}

interface Cell {
  rps: number;
  rpsMin: number;
  rpsMax: number;
  p50: number;
  p99: number;
  cpu: number | undefined;
  rss: number | undefined;
  requests: number;
  errors: WrkErrors;
  others: number;
  runs: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function aggregate(ms: readonly Measurement[]): Cell | undefined {
  if (ms.length === 0) return undefined;
  const defined = (xs: (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined);
  const cpu = defined(ms.map((m) => m.cpuUsPerRequest));
  const rss = defined(ms.map((m) => m.peakRssKiB));
  const rps = ms.map((m) => m.wrk.rps);
  const errors: WrkErrors = { connect: 0, read: 0, write: 0, timeout: 0, non2xx: 0 };
  for (const m of ms) for (const key of Object.keys(errors) as (keyof WrkErrors)[]) errors[key] += m.wrk.errors[key];
  return {
    rps: median(rps),
    rpsMin: Math.min(...rps),
    rpsMax: Math.max(...rps),
    p50: median(ms.map((m) => m.wrk.latencyUs.p50)),
    p99: median(ms.map((m) => m.wrk.latencyUs.p99)),
    cpu: cpu.length > 0 ? median(cpu) : undefined,
    rss: rss.length > 0 ? Math.max(...rss) : undefined,
    requests: ms.reduce((sum, m) => sum + m.wrk.requests, 0),
    errors,
    others: median(ms.map((m) => m.othersCpuShare)),
    runs: ms.length,
  };
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export const fmtRps = (n: number): string => int.format(n);
export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return '—';
  if (Math.abs(us) < 1000) return `${Math.round(us)} µs`;
  if (Math.abs(us) < 1e6) return `${(us / 1000).toFixed(2)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}
const fmtRatio = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '—' : `${n.toFixed(2)}×`);
const fmtCpu = (n: number | undefined): string => (n === undefined ? '—' : n < 10 ? n.toFixed(1) : n.toFixed(0));
const fmtRss = (kib: number | undefined): string => (kib === undefined ? '—' : `${(kib / 1024).toFixed(1)} MiB`);

function fmtErrors(e: WrkErrors): string {
  if (errorCount(e) === 0) return '0';
  const parts: string[] = [];
  if (e.non2xx > 0) parts.push(`**${e.non2xx} non-2xx**`);
  for (const key of ['connect', 'read', 'write', 'timeout'] as const) if (e[key] > 0) parts.push(`**${e[key]} ${key}**`);
  return parts.join(', ');
}

const signed = (us: number): string => (Number.isFinite(us) ? `${us >= 0 ? '+' : '−'}${fmtUs(Math.abs(us))}` : '—');

export function renderMarkdown(input: ReportInput): string {
  const { meta, shapes, targets } = input;
  const cells = new Map<string, Cell>();
  for (const t of targets) {
    for (const s of shapes) {
      const cell = aggregate(input.measurements.filter((m) => m.target === t.id && m.shape === s.name));
      if (cell !== undefined) cells.set(`${t.id}|${s.name}`, cell);
    }
  }
  const cell = (target: string, shape: string): Cell | undefined => cells.get(`${target}|${shape}`);
  const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
    a === undefined || b === undefined || b === 0 ? undefined : a / b;
  const out: string[] = [];
  const line = (s = ''): void => {
    out.push(s);
  };

  line('# Outrigger bench results');
  line();
  line('| | |');
  line('|---|---|');
  line(`| Date | ${meta.date} |`);
  line(`| Machine | ${meta.cores} cores (\`os.availableParallelism()\`), ${meta.cpuModel}, Linux ${meta.kernel} |`);
  line(`| Node | ${meta.node} |`);
  line(`| Versions | ${meta.versions} |`);
  line(`| Upstream | ${meta.upstream}, serving \`/100b\` and \`/16k\` |`);
  line(`| Command | \`${meta.command}\` |`);
  line(
    `| Load | wrk -t${meta.wrkThreads} (capped at connections), keep-alive, \`-H 'Host: upstream'\` on every target; ` +
      `${meta.initialWarmupS} s warm-up of each target once (c50, 100 B), then ${meta.warmupS} s warm-up + **${meta.durationS} s measured** per run; ${meta.rounds} round(s); ` +
      `target order rotated per shape and round |`,
  );
  if (meta.sidecarNodeFlags.length > 0) line(`| Sidecar node flags | \`${meta.sidecarNodeFlags.join(' ')}\` |`);
  if (meta.sidecarConfigExtraFile !== undefined) line(`| Sidecar extra config (policies row) | \`${meta.sidecarConfigExtraFile}\` |`);
  line(`| Load average (1/5/15 min) | start ${meta.loadStart}; end ${meta.loadEnd} |`);
  line(`| Total time | ${Math.round(meta.totalSeconds)} s |`);
  line();
  line('## How to read this');
  line();
  line(
    `All rows come from this one run: same upstream, same wrk load, targets interleaved within each shape, so drift from ` +
      `other work on the machine spreads over every target. Trust the **ratios** (same shape, same run) more than absolute numbers. ` +
      `The ${meta.cores} cores are shared by wrk, the upstream and the proxy (both proxies on 2-hop rows), so a proxy that burns less CPU ` +
      `leaves more for wrk and the upstream; **proxy CPU µs/req** (utime+stime of the proxy process(es) during the measured run ÷ ` +
      `requests completed) is the most machine-independent efficiency figure here. p50/p99 come from wrk's \`--latency\` histogram. ` +
      `Peak RSS is VmHWM ${meta.peakRssScoped ? 'during the measured run (reset through /proc/PID/clear_refs before it)' : 'since the process started (clear_refs was refused)'}, summed over proxy processes. ` +
      `Errors are wrk's socket errors plus responses with status ≥ 400; any non-zero count is shown in bold. ` +
      `"vs nginx" is req/s ÷ the single-nginx row of the same shape; compare 2-hop rows with nginx → nginx. ` +
      `"others' CPU" is the share of all cores that went to processes other than wrk, the upstream, the proxy and the harness ` +
      `during the measured run (from /proc/stat): when it is high, that row was measured on a busy machine; rerun with \`--rounds 3\`.` +
      (meta.rounds > 1 ? ` With several rounds, each figure is the median over rounds and "spread" is (max − min) ÷ median of req/s.` : ''),
  );
  line();

  // Headline ratios.
  const has = (id: string): boolean => targets.some((t) => t.id === id);
  line('## Headline ratios (req/s, same shape, same run)');
  line();
  if (!has('sidecar') && !has('sidecar-x2')) {
    line('No Outrigger rows ran (see "Skipped"), so there are no Outrigger ratios.');
    line();
  } else {
    const policies = has('sidecar-policies');
    line(
      '| shape | sidecar ÷ nginx | sidecar→sidecar ÷ nginx→nginx | sidecar ÷ best Node peer | sidecar ÷ undici pass-through | sidecar CPU/req ÷ nginx CPU/req |' +
        (policies ? ' policies on ÷ off |' : ''),
    );
    line(`|---|---|---|---|---|---|${policies ? '---|' : ''}`);
    for (const s of shapes) {
      const sc = cell('sidecar', s.name);
      const best = (['http-proxy', 'reply-from'] as const)
        .map((id) => ({ id, c: cell(id, s.name) }))
        .filter((p): p is { id: 'http-proxy' | 'reply-from'; c: Cell } => p.c !== undefined)
        .sort((a, b) => b.c.rps - a.c.rps)[0];
      line(
        `| ${s.name} | ${fmtRatio(ratio(sc?.rps, cell('nginx', s.name)?.rps))} | ` +
          `${fmtRatio(ratio(cell('sidecar-x2', s.name)?.rps, cell('nginx-x2', s.name)?.rps))} | ` +
          `${fmtRatio(ratio(sc?.rps, best?.c.rps))}${best !== undefined && sc !== undefined ? ` (${best.id})` : ''} | ` +
          `${fmtRatio(ratio(sc?.rps, cell('undici', s.name)?.rps))} | ` +
          `${fmtRatio(ratio(sc?.cpu, cell('nginx', s.name)?.cpu))} |` +
          (policies ? ` ${fmtRatio(ratio(cell('sidecar-policies', s.name)?.rps, sc?.rps))} |` : ''),
      );
    }
    line();
  }

  // Sidecar start-up and unloaded latency per hop.
  line('## Time to ready and added latency per hop');
  line();
  if (typeof input.timeToReadyMs === 'string') {
    line(`- Sidecar time to ready: not measured (${input.timeToReadyMs}).`);
  } else if (input.timeToReadyMs.length > 0) {
    const all = input.timeToReadyMs.map((ms) => ms.toFixed(0)).join(', ');
    line(
      `- Sidecar time to ready (spawn → first 200 from admin \`/ready\`, polled every 5 ms): ` +
        `**median ${median(input.timeToReadyMs).toFixed(0)} ms** over ${input.timeToReadyMs.length} starts (${all} ms).`,
    );
  }
  const unloaded = shapes.find((s) => s.connections === 1 && s.body === '100b');
  const direct = unloaded === undefined ? undefined : cell('direct', unloaded.name);
  if (unloaded === undefined || direct === undefined) {
    line('- Added latency per hop: needs the `c1-100b` shape and the `direct` target in the same run.');
  } else {
    const sc = cell('sidecar', unloaded.name);
    line(
      `- Added latency per hop, unloaded (p50 at ${unloaded.name} minus direct p50 of ${fmtUs(direct.p50)}): ` +
        `**Outrigger sidecar ${sc === undefined ? '— (did not run)' : signed(sc.p50 - direct.p50)}**. All targets:`,
    );
    line();
    line('| target | p50 @ c1 | added vs direct | added per hop |');
    line('|---|---|---|---|');
    for (const t of targets) {
      const c = cell(t.id, unloaded.name);
      if (c === undefined || t.hops === 0) continue;
      line(`| ${t.label} | ${fmtUs(c.p50)} | ${signed(c.p50 - direct.p50)} | ${signed((c.p50 - direct.p50) / t.hops)} |`);
    }
  }
  line();

  // One table per shape.
  const spread = meta.rounds > 1;
  for (const s of shapes) {
    line(`## ${s.name}: ${s.connections} connection${s.connections === 1 ? '' : 's'}, ${s.body === '100b' ? '100-byte' : '16 KiB'} body`);
    line();
    line(`| target | req/s | vs nginx |${spread ? ' spread |' : ''} p50 | p99 | proxy CPU µs/req | proxy peak RSS | errors | others' CPU |`);
    line(`|---|--:|--:|${spread ? '--:|' : ''}--:|--:|--:|--:|---|--:|`);
    const nginx = cell('nginx', s.name);
    for (const t of targets) {
      const c = cell(t.id, s.name);
      if (c === undefined) {
        line(`| ${t.label} | — | — |${spread ? ' — |' : ''} — | — | — | — | did not run | — |`);
        continue;
      }
      const sp = spread ? ` ${(((c.rpsMax - c.rpsMin) / c.rps) * 100).toFixed(1)}% |` : '';
      line(
        `| ${t.label} | ${fmtRps(c.rps)} | ${fmtRatio(ratio(c.rps, nginx?.rps))} |${sp} ${fmtUs(c.p50)} | ${fmtUs(c.p99)} | ` +
          `${fmtCpu(c.cpu)} | ${fmtRss(c.rss)} | ${fmtErrors(c.errors)} | ${(c.others * 100).toFixed(0)}% |`,
      );
    }
    line();
  }

  if (input.skipped.length > 0) {
    line('## Skipped');
    line();
    for (const s of input.skipped) {
      const [first, ...rest] = s.reason.split('\n');
      line(`- **${s.label}**: ${first}`);
      const detail = rest.map((l) => l.trim()).filter((l) => l !== '');
      if (detail.length > 0) {
        line();
        line('  ```');
        for (const l of detail.slice(0, 6)) line(`  ${l}`);
        if (detail.length > 6) line(`  ... (${detail.length - 6} more lines)`);
        line('  ```');
      }
    }
    line();
  }
  if (input.failures.length > 0) {
    line('## Failures during the run');
    line();
    for (const f of input.failures) line(`- ${f}`);
    line();
  }
  if (input.notes.length > 0) {
    line('## Notes');
    line();
    for (const n of input.notes) line(`- ${n}`);
    line();
  }
  return out.join('\n');
}
