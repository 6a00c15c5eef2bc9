import { createHash } from 'node:crypto';

export interface MaglevEntry {
  /** Hashed for the endpoint's place in the table: the same address gets the same slots on every sidecar. */
  readonly address: string;
  readonly weight: number;
}

/**
 * Builds a Maglev lookup table (Eisenbud et al., NSDI 2016) of `size` slots (a prime), each holding an index into
 * `entries`. Every entry walks its own permutation of the slots (offset + j·skip mod size, from two independent
 * hashes of its address) and takes turns claiming the next free slot of it. Weighted as Envoy does: in iteration k an
 * entry takes a turn only once k·weight has caught up with maxWeight per slot already claimed, so slots end up in
 * proportion to weight.
 */
export function buildMaglevTable(entries: readonly MaglevEntry[], size: number): Int32Array {
  const n = entries.length;
  const table = new Int32Array(size).fill(-1);
  if (n === 0) return table;
  const next = new Float64Array(n);
  const skip = new Float64Array(n);
  const claimed = new Float64Array(n);
  let maxWeight = 0;
  for (let i = 0; i < n; i++) {
    const entry = entries[i]!;
    const digest = createHash('sha256').update(entry.address).digest();
    next[i] = digest.readUInt32BE(0) % size;
    skip[i] = (digest.readUInt32BE(4) % (size - 1)) + 1;
    maxWeight = Math.max(maxWeight, entry.weight);
  }
  let filled = 0;
  for (let iteration = 1; filled < size; iteration++) {
    for (let i = 0; i < n && filled < size; i++) {
      if (iteration * entries[i]!.weight < claimed[i]!) continue;
      claimed[i]! += maxWeight;
      const step = skip[i]!;
      let slot = next[i]!;
      while (table[slot] !== -1) {
        slot += step;
        if (slot >= size) slot -= size;
      }
      table[slot] = i;
      filled++;
      slot += step;
      next[i] = slot >= size ? slot - size : slot;
    }
  }
  return table;
}
