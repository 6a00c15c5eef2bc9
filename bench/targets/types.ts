/** What every bench target looks like: a definition that can start, and a running instance that can stop. */
import type { Managed } from '../procs.ts';

export interface BenchOptions {
  repoRoot: string;
  /** The Node binary for every Node process (the pinned Node 24 when the harness runs under `npx node`). */
  nodeBin: string;
  sidecarNodeFlags: string[];
  /** Extra YAML appended to the sidecar config of the "policies on" row. */
  sidecarConfigExtra: string | undefined;
  readyTimeoutMs: number;
}

export interface Upstream {
  host: string;
  port: number;
  /** `host:port` */
  address: string;
}

export interface TargetContext {
  upstream: Upstream;
  options: BenchOptions;
  /** Tools found on PATH (wrk, nginx, haproxy). */
  tools: ReadonlySet<string>;
}

export interface RunningTarget {
  /** Base URL wrk hits, e.g. `http://127.0.0.1:40123` (the shape appends `/100b` or `/16k`). */
  url: string;
  /** The proxy processes to account CPU and RSS to (their descendants are included); empty for "direct". */
  processes: Managed[];
  /** Things worth printing under the table (e.g. deprecation warnings a peer printed). */
  notes(): string[];
  stop(): Promise<void>;
}

export interface TargetDef {
  id: string;
  label: string;
  /** Proxies between wrk and the upstream. */
  hops: number;
  /** Tools this target needs besides Node. */
  tools: string[];
  /** Resolves to a running target, or throws `SkipTarget` with a reason. */
  start(ctx: TargetContext): Promise<RunningTarget>;
}

/** Thrown by `start` when a target cannot run here (tool missing, sidecar not ready, ...). */
export class SkipTarget extends Error {
  override name = 'SkipTarget';
}

/** Stop every process, ignoring errors (used when a start fails half-way). */
export async function stopAll(processes: readonly Managed[]): Promise<void> {
  await Promise.all(processes.map((p) => p.stop().catch(() => undefined)));
}

/** A RunningTarget made of plain processes. */
export function runningFrom(url: string, processes: Managed[], notes: () => string[] = () => []): RunningTarget {
  return { url, processes, notes, stop: () => stopAll(processes) };
}
