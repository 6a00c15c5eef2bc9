import type { HTTPRouteFilter } from '../../policy/schema/http-route.ts';

/** One `backendRef` of a rule, resolved: the Service to send to, its weight, and its own filters. */
export interface BackendTarget {
  service: string;
  namespace: string;
  port?: number;
  weight: number;
  filters: HTTPRouteFilter[];
}

/**
 * The backends of one rule with their weights, ready to pick from.
 *
 * A backend of weight 0 is never picked. When the rule has no backends, or all weights are 0, `pick` returns
 * undefined: Gateway API says such traffic gets a 500 (unless a filter such as RequestRedirect answers it).
 */
export interface WeightedBackends {
  /** `random` returns a number in [0, 1), like Math.random; tests pass a seeded generator. */
  pick(random: () => number): BackendTarget | undefined;
  readonly all: readonly BackendTarget[];
  readonly totalWeight: number;
}

export function weightedBackends(targets: readonly BackendTarget[]): WeightedBackends {
  const all = Object.freeze([...targets]);
  const positive = all.filter((target) => target.weight > 0);
  const cumulative: number[] = [];
  let totalWeight = 0;
  for (const target of positive) {
    totalWeight += target.weight;
    cumulative.push(totalWeight);
  }
  const only = positive.length === 1 ? positive[0] : undefined;

  return {
    all,
    totalWeight,
    pick(random) {
      if (only !== undefined) return only;
      if (totalWeight === 0) return undefined;
      const point = random() * totalWeight;
      for (let i = 0; i < cumulative.length; i++) {
        if (point < (cumulative[i] ?? 0)) return positive[i];
      }
      // Only reachable if `random` broke its contract and returned 1 or more: take the last backend.
      return positive[positive.length - 1];
    },
  };
}
