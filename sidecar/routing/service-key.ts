import { isIPv4, isIPv6 } from 'node:net';

/** The key routing tables and the balancer registry use for a Service: `name.namespace`, as in its DNS name. */
export function serviceKey(namespace: string, name: string): string {
  return `${name}.${namespace}`;
}

export interface Authority {
  service: string;
  namespace: string;
  port: number | undefined;
}

/** RFC 1123 label, the syntax of both Service names and namespaces. */
const LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const PORT = /^[0-9]{1,5}$/;
/** Longest well-formed authority: a 253-character name, a trailing dot, a colon and five digits. */
const MAX_AUTHORITY = 253 + 1 + 6;

/**
 * Parses the `Host` header (or HTTP/2 `:authority`) an app sends to the outbound listener into the Service it names.
 *
 * Accepted, case-insensitively, each with an optional `:port` and an optional trailing dot:
 * `catalog` (in `defaultNamespace`), `catalog.shop`, `catalog.shop.svc`, `catalog.shop.svc.<clusterDomain>`.
 * These are exactly the names the pod's DNS search path resolves to a Service.
 *
 * IP literals are returned with `service` set to the literal (IPv6 in brackets, e.g. `[::1]`, as the only accepted form
 * of IPv6) and `namespace` set to `defaultNamespace`; the caller decides what to do with them. No Service is named like
 * that, so they cannot be mistaken for one.
 *
 * Returns undefined when the authority is malformed (empty, bad or empty port, anything outside hostname syntax such
 * as spaces, `@`, `/`, `_` or `%`) or is a well-formed name that is not a Service name in the cluster's DNS scheme
 * (e.g. `a.b.c`, or `x.y.svc.other.domain`).
 */
export function parseAuthority(authority: string, defaultNamespace: string, clusterDomain: string): Authority | undefined {
  if (authority.length === 0 || authority.length > MAX_AUTHORITY) return undefined;
  const lower = authority.toLowerCase();

  if (lower.charCodeAt(0) === 0x5b /* [ */) {
    const close = lower.indexOf(']');
    if (close < 0) return undefined;
    const port = parsePortSuffix(lower.slice(close + 1));
    const inner = lower.slice(1, close);
    if (port === null || inner.includes('%') || !isIPv6(inner)) return undefined;
    return { service: lower.slice(0, close + 1), namespace: defaultNamespace, port };
  }

  const colon = lower.indexOf(':');
  let host = colon < 0 ? lower : lower.slice(0, colon);
  const port = colon < 0 ? undefined : parsePortSuffix(lower.slice(colon));
  if (port === null) return undefined;
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0 || host.length > 253) return undefined;
  if (isIPv4(host)) return { service: host, namespace: defaultNamespace, port };

  const labels = host.split('.');
  for (const label of labels) if (!LABEL.test(label)) return undefined;
  const [service, namespace, svc] = labels;
  if (service === undefined) return undefined;
  if (namespace === undefined) return { service, namespace: defaultNamespace, port };
  if (labels.length === 2) return { service, namespace, port };
  if (svc !== 'svc') return undefined;
  if (labels.length === 3) return { service, namespace, port };
  const domain = normalizeDomain(clusterDomain);
  const suffix = host.slice(service.length + namespace.length + '..svc.'.length);
  return domain !== '' && suffix === domain ? { service, namespace, port } : undefined;
}

/** `''` → no port; `':8080'` → 8080; anything else (`':'`, `':0'`, `':65536'`, `':+1'`, `':1:2'`) → null. */
function parsePortSuffix(suffix: string): number | undefined | null {
  if (suffix === '') return undefined;
  if (suffix.charCodeAt(0) !== 0x3a /* : */) return null;
  const digits = suffix.slice(1);
  if (!PORT.test(digits)) return null;
  const port = Number(digits);
  return port >= 1 && port <= 65535 ? port : null;
}

function normalizeDomain(clusterDomain: string): string {
  const lower = clusterDomain.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}
