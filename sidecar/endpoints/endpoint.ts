/**
 * One upstream endpoint as the balancers and `/clusters` see it: where it is, how heavy it is,
 * how busy it is now, and how fast it has been answering (Linkerd's peak-EWMA estimate).
 */
export interface EndpointInit {
  address: string;
  weight?: number;
  zone?: string | undefined;
  /** Latency assumed before the first observation. Linkerd: 30 ms. */
  defaultRttMs?: number;
  /** Decay time constant of the EWMA. Linkerd: 10 s. */
  decayMs?: number;
}

export class Endpoint {
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly zone: string | undefined;
  /** Requests sent to this endpoint that have not finished. */
  active = 0;
  /** Requests completed, successful or not. */
  completed = 0;
  /** Requests that ended in a connect failure, reset, timeout or 5xx. */
  failed = 0;
  healthy = true;
  private ewmaMs: number;
  private lastObservedAt = -1;
  private readonly decayMs: number;

  constructor(init: EndpointInit) {
    this.address = init.address;
    const colon = init.address.lastIndexOf(':');
    const host = init.address.slice(0, colon);
    this.host = host.startsWith('[') ? host.slice(1, -1) : host;
    this.port = Number(init.address.slice(colon + 1));
    this.weight = init.weight ?? 1;
    this.zone = init.zone;
    this.ewmaMs = init.defaultRttMs ?? 30;
    this.decayMs = init.decayMs ?? 10_000;
  }

  /** Peak-sensitive EWMA: a slower sample replaces the estimate at once, faster ones pull it down gradually. */
  observeLatency(rttMs: number, nowMs: number): void {
    if (this.lastObservedAt < 0 || rttMs > this.ewmaMs) {
      this.ewmaMs = rttMs;
    } else {
      const elapsed = Math.max(0, nowMs - this.lastObservedAt);
      const w = Math.exp(-elapsed / this.decayMs);
      this.ewmaMs = this.ewmaMs * w + rttMs * (1 - w);
    }
    this.lastObservedAt = nowMs;
  }

  /** Current latency estimate in milliseconds. */
  get latencyEstimateMs(): number {
    return this.ewmaMs;
  }

  /** Linkerd's peak-EWMA load: estimated latency scaled by the queue a new request would join, per unit of weight. */
  peakEwmaCost(): number {
    return (this.ewmaMs * (this.active + 1)) / this.weight;
  }
}
