import type { MemberView } from '../gossip/member.ts';
import type { Logger } from './log.ts';
import { decodeMemberMeta } from './member-meta.ts';
import { encodeSignalReport, SIGNALS_REQUEST, type SignalWindows, type UpstreamHealth } from './signals-report.ts';

/** What the reporter needs of a Memberlist (which satisfies it). */
export interface ReporterMembership {
  readonly name: string;
  allMembers(): MemberView[];
  request(addr: string, kind: string, body: Uint8Array, timeoutMs?: number): Promise<Uint8Array>;
}

/** The sidecar's signal recorder, as the reporter sees it. */
export interface SignalSnapshotSource {
  snapshot(nowMs?: number): SignalWindows;
}

export interface SignalReporterOptions {
  memberlist: ReporterMembership;
  /** `name.namespace` of the local Service, as in this member's metadata. */
  service: string;
  source: SignalSnapshotSource;
  /**
   * The upstream Services with ejected endpoints or a circuit not closed, read each round; optional. A throw costs
   * the round its upstreams, not its signals.
   */
  upstreamHealth?: (() => readonly UpstreamHealth[]) | undefined;
  /** How often to report (2 s). */
  intervalMs?: number;
  /** How long one send may take (the interval): a control plane slower than that is skipped next round. */
  timeoutMs?: number;
  /** Wall clock for the report's `at` (Date.now). */
  now?: () => number;
  log?: Logger | undefined;
}

export interface ReporterStats {
  rounds: number;
  sent: number;
  /** Sends that failed or timed out (the control plane was down, slow, or refused the report). */
  failed: number;
  /** Sends skipped because the previous one to that control plane had not finished. */
  skipped: number;
  lastError: string | undefined;
}

export const DEFAULT_REPORT_INTERVAL_MS = 2_000;

/**
 * Sends this sidecar's signals to every alive control-plane member every `intervalMs`. Never blocks and never
 * throws: each send runs on its own, failures are counted, and a control plane still busy with the last report is
 * skipped rather than queued, so a slow replica costs at most one pending request.
 */
export class SignalReporter {
  readonly stats: ReporterStats = { rounds: 0, sent: 0, failed: 0, skipped: 0, lastError: undefined };
  readonly intervalMs: number;
  private readonly options: SignalReporterOptions;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: SignalReporterOptions) {
    this.options = options;
    this.intervalMs = options.intervalMs ?? DEFAULT_REPORT_INTERVAL_MS;
    if (!Number.isInteger(this.intervalMs) || this.intervalMs < 100 || this.intervalMs > 60_000) {
      throw new RangeError(`intervalMs must be an integer from 100 to 60000 (a report carries it), not ${this.intervalMs}`);
    }
    this.timeoutMs = options.timeoutMs ?? this.intervalMs;
    this.now = options.now ?? Date.now;
  }

  /** Starts reporting, the first time at a random point within one interval so sidecars do not report in lockstep. */
  start(): void {
    const schedule = (delay: number): void => {
      if (this.closed) return;
      this.timer = setTimeout(() => {
        void this.tick();
        schedule(this.intervalMs);
      }, delay);
      this.timer.unref();
    };
    schedule(Math.floor(Math.random() * this.intervalMs));
  }

  /** One round: snapshot, encode, send to each control plane. The promise settles when every send has (tests wait on it). */
  tick(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.stats.rounds++;
    let body: Uint8Array;
    try {
      const windows = this.options.source.snapshot();
      const upstreams = this.upstreams();
      body = encodeSignalReport({ service: this.options.service, member: this.options.memberlist.name, at: Math.floor(this.now()), intervalMs: this.intervalMs, windows, ...(upstreams.length > 0 ? { upstreams } : {}) });
    } catch (error) {
      this.fail(`cannot build the report: ${String(error)}`);
      return Promise.resolve();
    }
    const sends: Promise<void>[] = [];
    for (const target of this.controlPlanes()) {
      if (this.pending.has(target.name)) {
        this.stats.skipped++;
        continue;
      }
      this.pending.add(target.name);
      sends.push(
        this.options.memberlist.request(target.addr, SIGNALS_REQUEST, body, this.timeoutMs).then(
          () => {
            this.pending.delete(target.name);
            this.stats.sent++;
          },
          (error: unknown) => {
            this.pending.delete(target.name);
            this.fail(`${target.name}: ${error instanceof Error ? error.message : String(error)}`);
          },
        ),
      );
    }
    return Promise.all(sends).then(() => undefined);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private upstreams(): UpstreamHealth[] {
    if (!this.options.upstreamHealth) return [];
    try {
      return [...this.options.upstreamHealth()];
    } catch (error) {
      this.stats.lastError = `cannot read upstream health: ${String(error)}`;
      this.options.log?.debug('upstream health not reported', { error: String(error) });
      return [];
    }
  }

  private controlPlanes(): MemberView[] {
    const self = this.options.memberlist.name;
    return this.options.memberlist.allMembers().filter((m) => m.status === 'alive' && m.name !== self && decodeMemberMeta(m.meta)?.role === 'control-plane');
  }

  private fail(message: string): void {
    this.stats.failed++;
    this.stats.lastError = message;
    this.options.log?.debug('signal report not delivered', { error: message });
  }
}
