/**
 * The `outrigger.dev/*` annotations a pod sets to steer its injection, and strict parsers for their values. Values
 * that reach the iptables script (ports, CIDRs) are checked character by character: that script runs as root.
 */
import { isIPv4 } from 'node:net';

export const ANNOTATION = {
  inject: 'outrigger.dev/inject',
  status: 'outrigger.dev/status',
  service: 'outrigger.dev/service',
  appPort: 'outrigger.dev/app-port',
  zone: 'outrigger.dev/zone',
  capture: 'outrigger.dev/capture',
  proxyCpu: 'outrigger.dev/proxy-cpu',
  proxyMemory: 'outrigger.dev/proxy-memory',
  proxyCpuLimit: 'outrigger.dev/proxy-cpu-limit',
  proxyMemoryLimit: 'outrigger.dev/proxy-memory-limit',
  drainSeconds: 'outrigger.dev/drain-seconds',
  excludeOutboundPorts: 'outrigger.dev/exclude-outbound-ports',
  excludeInboundPorts: 'outrigger.dev/exclude-inbound-ports',
  excludeOutboundCidrs: 'outrigger.dev/exclude-outbound-cidrs',
} as const;

/** Namespace label (and pod label or annotation) that opts in with `enabled`, out with `disabled`. */
export const INJECT_LABEL = ANNOTATION.inject;

/** A port (`8080`) or an inclusive range (`8000-8100`), as iptables writes it (`8000:8100`). */
export interface PortRange {
  from: number;
  to: number;
}

export function parsePort(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** `"8080, 9000-9100"` → ranges; throws a message naming the bad item. Empty text is an empty list. */
export function parsePortList(text: string): PortRange[] {
  const items = text.split(',').map((item) => item.trim()).filter((item) => item !== '');
  return items.map((item) => {
    const [fromText, toText, ...rest] = item.split('-');
    const from = parsePort(fromText ?? '');
    const to = toText === undefined ? from : parsePort(toText);
    if (rest.length > 0 || from === undefined || to === undefined || to < from) {
      throw new Error(`"${item}" is not a port (1–65535) or a range like 8000-8100`);
    }
    return { from, to };
  });
}

export function formatPortRange(range: PortRange): string {
  return range.from === range.to ? String(range.from) : `${range.from}:${range.to}`;
}

/** `"10.0.0.0/8, 169.254.169.254"` → canonical IPv4 CIDRs (a bare address is a /32); throws on anything else. */
export function parseCidrList(text: string): string[] {
  const items = text.split(',').map((item) => item.trim()).filter((item) => item !== '');
  return items.map((item) => {
    const [address = '', prefixText, ...rest] = item.split('/');
    const prefix = prefixText === undefined ? 32 : /^[0-9]{1,2}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (rest.length > 0 || !isIPv4(address) || !(prefix >= 0 && prefix <= 32)) {
      throw new Error(`"${item}" is not an IPv4 address or CIDR like 10.0.0.0/8 (IPv6 is not captured yet)`);
    }
    return `${address}/${prefix}`;
  });
}

const QUANTITY = /^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;
const FACTORS: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes resource quantity (`50m`, `64Mi`, `1.5`, `1e3`) as a number, or undefined when it is not one. */
export function parseQuantity(text: string): number | undefined {
  const match = QUANTITY.exec(text.trim());
  if (!match) return undefined;
  const [, digits = '', suffix = ''] = match;
  const value = Number(digits);
  if (/^[eE]/.test(suffix)) return value * 10 ** Number(suffix.slice(1));
  const factor = FACTORS[suffix];
  return factor === undefined ? undefined : value * factor;
}
