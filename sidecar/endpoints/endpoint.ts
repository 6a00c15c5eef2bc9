/** Where an endpoint came from: a ServiceEndpoints resource, or a discovery source. */
export type EndpointOrigin = 'static' | 'discovered';

/**
 * One upstream endpoint as the balancers and `/clusters` see it: where it is, how heavy it is,
 * how busy it is now, and how fast it has been answering (Linkerd's peak-EWMA estimate).
 */
export interface EndpointInit {
  address: string;
  weight?: number;
  zone?: string | undefined;
  origin?: EndpointOrigin | undefined;
  /** Discovery says the endpoint is suspect; its weight is already reduced for it. */
  suspect?: boolean | undefined;
  /** Latency assumed before the first observation. Linkerd: 30 ms. */
  defaultRttMs?: number;
  /** Decay time constant of the EWMA. Linkerd: 10 s. */
  decayMs?: number;
}

export class Endpoint {
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /**
   * Share of traffic relative to the Service's other endpoints, as the balancers read it when built. Mutable so that
   * an endpoint whose weight or discovery state changes keeps its identity, and with it its stats and ejection state.
   */
  weight: number;
  zone: string | undefined;
  origin: EndpointOrigin;
  suspect: boolean;
  /** Requests sent to this endpoint that have not finished. */
  active = 0;
  /** Requests completed, successful or not. */
  completed = 0;
  /** Requests that ended in a connect failure, reset, timeout or 5xx. */
  failed = 0;
  healthy = true;
  private ewmaMs: number;
  private lastObservedAt = -1;
  private unobservedSince = -1;
  private readonly decayMs: number;

  constructor(init: EndpointInit) {
    this.address = init.address;
    const colon = init.address.lastIndexOf(':');
    const host = init.address.slice(0, colon);
    this.host = host.startsWith('[') ? host.slice(1, -1) : host;
    this.port = Number(init.address.slice(colon + 1));
    this.weight = init.weight ?? 1;
    this.zone = init.zone;
    this.origin = init.origin ?? 'static';
    this.suspect = init.suspect ?? false;
    this.ewmaMs = init.defaultRttMs ?? 30;
    this.decayMs = init.decayMs ?? 10_000;
  }

  /** Takes a new description of the same address; counters, latency estimate and health stay. */
  update(init: Pick<EndpointInit, 'weight' | 'zone' | 'origin' | 'suspect'>): void {
    this.weight = init.weight ?? 1;
    this.zone = init.zone;
    this.origin = init.origin ?? 'static';
    this.suspect = init.suspect ?? false;
  }

  /** Peak-sensitive EWMA: a slower sample replaces the estimate at once, faster ones pull it down gradually. */
  observeLatency(rttMs: number, nowMs: number): void {
    const w = this.lastObservedAt < 0 ? 0 : Math.exp(-Math.max(0, nowMs - this.lastObservedAt) / this.decayMs);
    // "Slower" means slower than the estimate as decayed by now, the one `peakEwmaCost(nowMs)` reads: otherwise the
    // first fast sample after a long quiet spell would drag the estimate back up towards an old peak.
    this.ewmaMs = rttMs > this.ewmaMs * w ? rttMs : this.ewmaMs * w + rttMs * (1 - w);
    this.lastObservedAt = nowMs;
  }

  /** Current latency estimate in milliseconds. */
  get latencyEstimateMs(): number {
    return this.ewmaMs;
  }

  /**
   * Linkerd's peak-EWMA load: estimated latency scaled by the queue a new request would join, per unit of weight.
   * Given `nowMs` (the clock `observeLatency` is fed), the estimate first decays towards zero over the time since the
   * last observation (or, before any, since the first such read), as tower's PeakEwma does on every read: an endpoint
   * that lost its traffic for being slow, or never had any because its default exceeds its peers' latency, gets tried
   * once its estimate falls below theirs, instead of being starved on a stale estimate forever.
   */
  peakEwmaCost(nowMs?: number): number {
    let estimate = this.ewmaMs;
    if (nowMs !== undefined) {
      if (this.lastObservedAt < 0 && this.unobservedSince < 0) this.unobservedSince = nowMs;
      const since = this.lastObservedAt >= 0 ? this.lastObservedAt : this.unobservedSince;
      estimate *= Math.exp(-Math.max(0, nowMs - since) / this.decayMs);
    }
    return (estimate * (this.active + 1)) / this.weight;
  }
}
