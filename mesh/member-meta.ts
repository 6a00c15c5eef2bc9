import { MAX_META_BYTES } from '../gossip/codec.ts';

/** What a member tells the mesh about itself, in its gossip metadata (≤ 512 bytes). */
export interface MeshMemberMeta {
  role: 'sidecar' | 'control-plane';
  /** `name.namespace` of the Service a sidecar fronts. */
  service?: string | undefined;
  /** `host:port` where mesh traffic for that Service reaches the sidecar (its inbound listener). */
  address?: string | undefined;
  zone?: string | undefined;
  /** Version and content hash (first 16 hex) of the snapshot this member runs; 0 and '' before any. */
  configVersion: number;
  configHash: string;
  /** Set when the member refused the newest snapshot it saw: which one and why. */
  rejected?: { version: number; error: string } | undefined;
  /** `host:port` of its HTTP API (the control plane's) or admin listener, for `outrigger status`. */
  api?: string | undefined;
}

interface WireMeta {
  r: 's' | 'c';
  s?: string;
  a?: string;
  z?: string;
  v: number;
  h: string;
  rv?: number;
  re?: string;
  api?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Compact JSON; a rejection message is shortened until the whole fits the 512-byte budget. */
export function encodeMemberMeta(meta: MeshMemberMeta): Uint8Array {
  const wire: WireMeta = { r: meta.role === 'sidecar' ? 's' : 'c', v: meta.configVersion, h: meta.configHash };
  if (meta.service) wire.s = meta.service;
  if (meta.address) wire.a = meta.address;
  if (meta.zone) wire.z = meta.zone;
  if (meta.api) wire.api = meta.api;
  if (meta.rejected) {
    wire.rv = meta.rejected.version;
    wire.re = meta.rejected.error;
  }
  let bytes = encoder.encode(JSON.stringify(wire));
  while (bytes.length > MAX_META_BYTES && wire.re && wire.re.length > 0) {
    wire.re = `${wire.re.slice(0, Math.max(0, wire.re.length - (bytes.length - MAX_META_BYTES) - 2))}…`;
    if (wire.re === '…') delete wire.re;
    bytes = encoder.encode(JSON.stringify(wire));
  }
  if (bytes.length > MAX_META_BYTES) throw new RangeError(`member metadata needs ${bytes.length} bytes; the limit is ${MAX_META_BYTES}`);
  return bytes;
}

/** Undefined for metadata that is not ours (another application on the cluster) or malformed. */
export function decodeMemberMeta(bytes: Uint8Array): MeshMemberMeta | undefined {
  let wire: unknown;
  try {
    wire = JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof wire !== 'object' || wire === null) return undefined;
  const w = wire as Partial<Record<keyof WireMeta, unknown>>;
  if ((w.r !== 's' && w.r !== 'c') || !isVersion(w.v) || typeof w.h !== 'string') return undefined;
  const meta: MeshMemberMeta = { role: w.r === 's' ? 'sidecar' : 'control-plane', configVersion: w.v, configHash: w.h };
  if (typeof w.s === 'string') meta.service = w.s;
  if (typeof w.a === 'string') meta.address = w.a;
  if (typeof w.z === 'string') meta.zone = w.z;
  if (typeof w.api === 'string') meta.api = w.api;
  if (isVersion(w.rv)) meta.rejected = { version: w.rv, error: typeof w.re === 'string' ? w.re : '' };
  return meta;
}

function isVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
