/**
 * Membership tuning. Defaults are HashiCorp memberlist's `DefaultLANConfig`; the formulas that derive timeouts and
 * retransmit counts from them live here too, so the numbers in docs and tests come from one place.
 */
export interface GossipConfig {
  /** Time between probes of one member, before awareness scaling. memberlist: 1 s. */
  probeIntervalMs: number;
  /** Wait for a direct ack before asking peers to probe indirectly. memberlist: 500 ms. */
  probeTimeoutMs: number;
  /** Peers asked to probe a silent member (SWIM's k). memberlist: 3. */
  indirectChecks: number;
  /** Suspicion timeout multiplier. memberlist: 4. */
  suspicionMult: number;
  /** Upper bound of the suspicion timeout as a multiple of its minimum (Lifeguard). memberlist: 6. */
  suspicionMaxTimeoutMult: number;
  /** Retransmit multiplier for broadcasts. memberlist: 4. */
  retransmitMult: number;
  /** Time between gossip rounds. memberlist: 200 ms. */
  gossipIntervalMs: number;
  /** Random members each gossip round sends to. memberlist: 3. */
  gossipNodes: number;
  /** How long dead members keep receiving gossip (and are kept in the table) so their death spreads. memberlist: 30 s. */
  gossipToTheDeadMs: number;
  /** Full state exchange with one random member, before cluster-size scaling. memberlist: 30 s. */
  pushPullIntervalMs: number;
  /** Timeout of stream exchanges (push/pull, stream probes, user requests). memberlist: 10 s. */
  streamTimeoutMs: number;
  /** Lifeguard local health: probe interval and timeout are scaled by up to this factor while this member is unhealthy. memberlist: 8. */
  awarenessMaxMultiplier: number;
  /** Largest packet sent, compound messages included. memberlist: 1400 bytes. */
  udpBufferSize: number;
  /** Try a stream probe beside indirect probes, for networks that drop UDP but pass TCP. memberlist: on. */
  streamFallbackProbe: boolean;
  /** How often members try to reach members declared dead, so a cluster split for longer than gossip-to-the-dead heals. Serf: 30 s; 0 turns it off (memberlist alone). */
  reconnectIntervalMs: number;
  /** How long a dead member is still tried. Serf: 24 h. */
  reconnectTimeoutMs: number;
  /** Stretch the retransmit count by the observed packet loss (see `lossAwareRetransmitLimit`); off = memberlist's fixed count. */
  lossAwareRetransmit: boolean;
  /** Upper bound of broadcasts waiting to be sent; the most-sent ones are dropped first beyond it. */
  maxQueuedBroadcasts: number;
  /** Cluster label: authenticated as associated data when encrypting, so two clusters sharing a key still cannot talk. */
  label: string;
}

export const DEFAULT_LAN_CONFIG: Readonly<GossipConfig> = Object.freeze({
  probeIntervalMs: 1_000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  retransmitMult: 4,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadMs: 30_000,
  pushPullIntervalMs: 30_000,
  streamTimeoutMs: 10_000,
  awarenessMaxMultiplier: 8,
  udpBufferSize: 1_400,
  streamFallbackProbe: true,
  reconnectIntervalMs: 30_000,
  lossAwareRetransmit: true,
  reconnectTimeoutMs: 24 * 3_600_000,
  maxQueuedBroadcasts: 4_096,
  label: '',
});

/** `mult · ceil(log10(n + 1))`: how many times each broadcast is sent before it leaves the queue. */
export function retransmitLimit(retransmitMult: number, members: number): number {
  return retransmitMult * Math.ceil(Math.log10(members + 1));
}

/**
 * memberlist's count assumes packets arrive. Each member that misses all of a broadcast's copies must wait for
 * push/pull (minutes in a large cluster), and with per-packet delivery rate q the expected copies per member shrink
 * by q, so the share missed grows as e^(−limit·q). Dividing the limit by q keeps that share where it is on a clean
 * network. q is estimated from the direct-probe success rate, which is q² (ping and ack both arrive); it is floored
 * at 1/4 so a member that is itself unhealthy does not flood the cluster.
 */
export function lossAwareRetransmitLimit(baseLimit: number, directProbeSuccessRate: number): number {
  const delivery = Math.min(1, Math.max(0.25, Math.sqrt(Math.max(0, directProbeSuccessRate))));
  return Math.ceil(baseLimit / delivery);
}

/** Suspicion bounds: `min = mult · max(1, log10 n) · probeInterval`, `max = maxMult · min` (memberlist `suspicionTimeout`). */
export function suspicionBounds(config: Pick<GossipConfig, 'suspicionMult' | 'suspicionMaxTimeoutMult' | 'probeIntervalMs'>, members: number): { minMs: number; maxMs: number } {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, members)));
  // memberlist rounds to whole milliseconds the same way: floor(mult · scale · interval).
  const minMs = Math.floor(config.suspicionMult * nodeScale * config.probeIntervalMs);
  return { minMs, maxMs: config.suspicionMaxTimeoutMult * minMs };
}

/**
 * Lifeguard's shrinking suspicion timeout after `confirmations` independent suspicions out of `k` expected:
 * `max − (ln(c + 1) / ln(k + 1)) · (max − min)`, never below min.
 */
export function suspicionTimeout(confirmations: number, k: number, minMs: number, maxMs: number): number {
  if (k < 1) return minMs;
  const fraction = Math.log(confirmations + 1) / Math.log(k + 1);
  return Math.max(minMs, Math.floor(maxMs - fraction * (maxMs - minMs)));
}

/** Push/pull interval grows above 32 members: `interval · (ceil(log2 n − 5) + 1)`, so the stream load stays flat. */
export function pushPullInterval(intervalMs: number, members: number): number {
  const threshold = 32;
  if (members <= threshold) return intervalMs;
  const multiplier = Math.ceil(Math.log2(members) - Math.log2(threshold)) + 1;
  return intervalMs * multiplier;
}
