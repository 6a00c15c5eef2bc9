import type { EndpointInput } from '../runtime/service.ts';
import { discoveredEndpointProblem, type DiscoveredEndpoint } from './discovery-source.ts';

/**
 * Weight multiplier of a suspect endpoint. memberlist/Lifeguard suspicion means "missed a probe, probably alive":
 * most suspicions are refuted within seconds, so dropping the endpoint would shift its whole share onto its peers on
 * every false alarm, while full weight would keep sending 1/n of requests at what may be a dead node. A tenth keeps a
 * trickle that retries and outlier detection absorb if it is dead (≈ 9 % of traffic with one healthy peer, less with
 * more), and restores it the moment the suspicion is refuted.
 */
export const SUSPECT_WEIGHT_FACTOR = 0.1;

/**
 * One Service's endpoints: its ServiceEndpoints entries, then the discovered ones, one per address. A YAML entry
 * wins over a discovered one at the same address; between two discovered claims of an address (a restarted member
 * under a new name, while the old one is still suspect) the healthy claim wins, else the first. Invalid discovered
 * entries are skipped and reported through `onInvalid`.
 */
export function mergeEndpoints(
  fromYaml: readonly EndpointInput[] | undefined,
  discovered: readonly DiscoveredEndpoint[] | undefined,
  onInvalid?: (problem: string) => void,
): EndpointInput[] {
  const merged: EndpointInput[] = [];
  const at = new Map<string, number>();
  for (const e of fromYaml ?? []) {
    if (at.has(e.address)) continue;
    at.set(e.address, merged.length);
    merged.push({ address: e.address, weight: e.weight, zone: e.zone, origin: 'static', suspect: false });
  }
  for (const d of discovered ?? []) {
    const problem = discoveredEndpointProblem(d);
    if (problem !== undefined) {
      onInvalid?.(problem);
      continue;
    }
    const suspect = d.state === 'suspect';
    const input: EndpointInput = { address: d.address, weight: suspect ? d.weight * SUSPECT_WEIGHT_FACTOR : d.weight, zone: d.zone, origin: 'discovered', suspect };
    const index = at.get(d.address);
    if (index === undefined) {
      at.set(d.address, merged.length);
      merged.push(input);
    } else if (merged[index]!.suspect && !suspect) {
      merged[index] = input;
    }
  }
  return merged;
}
