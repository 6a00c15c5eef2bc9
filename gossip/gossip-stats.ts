/** Counters a member keeps about its own protocol activity; exported as metrics by the processes that embed it. */
export interface GossipStats {
  packetsSent: number;
  packetsReceived: number;
  /** Packets that failed authentication or decryption. */
  packetsUnauthenticated: number;
  /** Packets or stream messages that did not decode. */
  packetsMalformed: number;
  probes: number;
  probesFailed: number;
  indirectProbes: number;
  streamProbes: number;
  suspicionsRaised: number;
  refutations: number;
  membersDeclaredDead: number;
  pushPulls: number;
  pushPullsFailed: number;
  broadcastsDropped: number;
}

export function newGossipStats(): GossipStats {
  return {
    packetsSent: 0,
    packetsReceived: 0,
    packetsUnauthenticated: 0,
    packetsMalformed: 0,
    probes: 0,
    probesFailed: 0,
    indirectProbes: 0,
    streamProbes: 0,
    suspicionsRaised: 0,
    refutations: 0,
    membersDeclaredDead: 0,
    pushPulls: 0,
    pushPullsFailed: 0,
    broadcastsDropped: 0,
  };
}

export function countDropped(stats: GossipStats, reason: 'unauthenticated' | 'malformed'): void {
  if (reason === 'unauthenticated') stats.packetsUnauthenticated++;
  else stats.packetsMalformed++;
}
