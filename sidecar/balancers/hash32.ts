/**
 * FNV-1a over the string's UTF-16 code units, finished with murmur3's fmix32 so that keys differing only in their
 * last characters still spread over the whole range. Stable across processes, so every sidecar maps a key alike.
 */
export function hash32(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
