import type { MembershipEvent, MemberView } from '../gossip/member.ts';
import type { RequestHandler } from '../gossip/memberlist.ts';
import { decodeMemberMeta } from './member-meta.ts';
import { aggregateEdges, aggregateSignals, aggregateUpstreamHealth, type ServiceEdge, type ServiceSignals, type UpstreamServiceHealth } from './signals-aggregate.ts';
import { decodeSignalReport, SIGNALS_REQUEST, SignalReportError, type SignalReport, type WindowName } from './signals-report.ts';

/** What the collector needs of a Memberlist (which satisfies it), so tests can hand it a fake. */
export interface CollectorMembership {
  handle(kind: string, handler: RequestHandler): void;
  member(name: string): MemberView | undefined;
  onEvent(listener: (event: MembershipEvent) => void): () => void;
}

/** Read side of the collector, what the control plane's routes and metrics use. */
export interface SignalSource {
  /** `name.namespace` of every Service with at least one fresh report, sorted. */
  services(): string[];
  /** The Service's signals over the window, or undefined when no member reports for it. */
  aggregate(service: string, window: WindowName): ServiceSignals | undefined;
}

export interface SignalCollectorOptions {
  memberlist: CollectorMembership;
  /** Clock for staleness, ms; Date.now by default. */
  now?: () => number;
  /** A report counts for this many of its sender's intervals after it arrived (3). */
  staleAfterIntervals?: number;
}

export interface CollectorStats {
  accepted: number;
  /** Malformed, from an unknown or gone member, or for a Service the member does not advertise. */
  rejected: number;
  /** Older (by its sender's clock) than the report already held for that member; ignored, not an error. */
  outOfOrder: number;
  /** Reports dropped for age or because their member died or left. */
  expired: number;
  lastError: string | undefined;
}

interface Held {
  report: SignalReport;
  receivedAt: number;
}

/**
 * The control plane's side of autoscaling signals: serves `signals` requests on the gossip stream port, keeps the
 * latest report of each sidecar member and sums them per Service. A report is accepted only from a member the mesh
 * knows as alive (or suspect) whose metadata says it is a sidecar for that very Service; anything else gets an error
 * reply and is counted, and nothing a peer sends can throw out of the handler. A report stops counting once its
 * member is dead or left, or three of its intervals after it arrived (by this replica's clock, so sender clock skew
 * does not matter).
 */
export class SignalCollector implements SignalSource {
  readonly stats: CollectorStats = { accepted: 0, rejected: 0, outOfOrder: 0, expired: 0, lastError: undefined };
  private readonly held = new Map<string, Held>();
  private readonly memberlist: CollectorMembership;
  private readonly now: () => number;
  private readonly staleAfter: number;
  private readonly unsubscribe: () => void;

  constructor(options: SignalCollectorOptions) {
    this.memberlist = options.memberlist;
    this.now = options.now ?? Date.now;
    this.staleAfter = options.staleAfterIntervals ?? 3;
    options.memberlist.handle(SIGNALS_REQUEST, (_from, body) => this.receive(body));
    this.unsubscribe = options.memberlist.onEvent((event) => {
      if (event.type === 'leave' && this.held.delete(event.member.name)) this.stats.expired++;
    });
  }

  /** Takes one encoded report; throws (and counts) when it is refused. Returns the (empty) reply. */
  receive(body: Uint8Array): Uint8Array {
    try {
      this.accept(decodeSignalReport(body));
      this.stats.accepted++;
      return new Uint8Array(0);
    } catch (error) {
      this.stats.rejected++;
      const message = error instanceof SignalReportError ? error.message : `internal error: ${String(error)}`;
      this.stats.lastError = message;
      throw new Error(message, { cause: error });
    }
  }

  services(): string[] {
    const services = new Set<string>();
    for (const { report } of this.fresh()) services.add(report.service);
    return [...services].sort();
  }

  /** Fresh reports, optionally of one Service. */
  reports(service?: string): SignalReport[] {
    return this.fresh()
      .map((held) => held.report)
      .filter((report) => service === undefined || report.service === service);
  }

  aggregate(service: string, window: WindowName): ServiceSignals | undefined {
    const reports = this.reports(service);
    return reports.length === 0 ? undefined : aggregateSignals(service, window, reports);
  }

  /** Who calls whom over the window, from every fresh report's per-caller counts. */
  edges(window: WindowName): ServiceEdge[] {
    return aggregateEdges(window, this.reports());
  }

  /** Ejected endpoints and circuit states per upstream Service, from every fresh report that carries them. */
  upstreamHealth(): UpstreamServiceHealth[] {
    return aggregateUpstreamHealth(this.reports());
  }

  close(): void {
    this.unsubscribe();
    this.held.clear();
  }

  private accept(report: SignalReport): void {
    const member = this.memberlist.member(report.member);
    if (!member || member.status === 'dead' || member.status === 'left') throw new SignalReportError(`member ${report.member} is not alive in this replica's view`);
    const meta = decodeMemberMeta(member.meta);
    if (meta?.role !== 'sidecar') throw new SignalReportError(`member ${report.member} is not a sidecar`);
    if (meta.service !== report.service) throw new SignalReportError(`member ${report.member} fronts ${meta.service ?? 'no Service'}, not ${report.service}`);
    const previous = this.held.get(report.member);
    if (previous && this.isFresh(previous) && previous.report.at > report.at) {
      this.stats.outOfOrder++;
      return;
    }
    this.held.set(report.member, { report, receivedAt: this.now() });
  }

  /** Held reports still counting; drops the rest. */
  private fresh(): Held[] {
    const kept: Held[] = [];
    for (const [name, held] of this.held) {
      const member = this.memberlist.member(name);
      if (this.isFresh(held) && member && member.status !== 'dead' && member.status !== 'left') {
        kept.push(held);
      } else {
        this.held.delete(name);
        this.stats.expired++;
      }
    }
    return kept;
  }

  private isFresh(held: Held): boolean {
    return this.now() - held.receivedAt <= this.staleAfter * held.report.intervalMs;
  }
}
