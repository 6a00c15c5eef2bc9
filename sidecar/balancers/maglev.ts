import type { Endpoint } from '../endpoints/endpoint.ts';
import type { Balancer, Random } from './balancer.ts';
import { hash32 } from './hash32.ts';
import { buildMaglevTable } from './maglev-table.ts';
import { WeightedSampler } from './weighted-sampler.ts';

/**
 * Consistent hashing with a Maglev table: a key maps to `table[hash(key) mod size]`. When that endpoint is unhealthy
 * or to be avoided, the walk continues forward through the table to the next eligible endpoint, so the key's fallback
 * is as stable as its first choice. A request without a key gets a weighted random endpoint.
 */
export class MaglevBalancer implements Balancer {
  /** Sorted by address: the table then depends only on the endpoint set, not on the order discovery listed it in. */
  private readonly endpoints: readonly Endpoint[];
  private readonly table: Int32Array;
  private readonly sampler: WeightedSampler;

  constructor(endpoints: readonly Endpoint[], tableSize: number, random: Random) {
    this.endpoints = endpoints.slice().sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    this.table = buildMaglevTable(this.endpoints, tableSize);
    this.sampler = new WeightedSampler(this.endpoints, random, true);
  }

  pick(hashKey?: string, avoid?: ReadonlySet<Endpoint>): Endpoint | undefined {
    if (hashKey === undefined || this.endpoints.length === 0) return this.sampler.sample(avoid);
    const slot = hash32(hashKey) % this.table.length;
    const e = this.endpoints[this.table[slot]!]!;
    if (e.healthy && (avoid === undefined || !avoid.has(e))) return e;
    return this.walk(slot, avoid);
  }

  private walk(start: number, avoid: ReadonlySet<Endpoint> | undefined): Endpoint | undefined {
    let healthyExists = false;
    let unavoidedExists = false;
    for (let i = 0; i < this.endpoints.length; i++) {
      const e = this.endpoints[i]!;
      if (!e.healthy) continue;
      healthyExists = true;
      if (avoid === undefined || !avoid.has(e)) unavoidedExists = true;
    }
    if (!healthyExists) return undefined;
    const skip = unavoidedExists ? avoid : undefined;
    const size = this.table.length;
    let slot = start;
    for (let steps = 1; steps < size; steps++) {
      slot = slot + 1 === size ? 0 : slot + 1;
      const e = this.endpoints[this.table[slot]!]!;
      if (e.healthy && (skip === undefined || !skip.has(e))) return e;
    }
    // Only eligible endpoints too light (or too many for the table) to have been given a slot remain.
    return this.sampler.sample(avoid);
  }
}
