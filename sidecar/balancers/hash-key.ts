import type { LoadBalancerSpec } from '../../policy/schema/traffic-policy.ts';

type Headers = Record<string, string | string[] | undefined>;

/**
 * The request's consistent-hash key per the spec: a header's value, a cookie's value or the client address.
 * Undefined when the spec is not ConsistentHash or the request lacks the key (the balancer then picks at random).
 */
export function hashKeyFor(spec: LoadBalancerSpec, headers: Headers, remoteAddress: string | undefined): string | undefined {
  const hash = spec.consistentHash;
  if (spec.type !== 'ConsistentHash' || hash === undefined) return undefined;
  switch (hash.type) {
    case 'Header':
      return hash.header && joined(headers[hash.header.name.toLowerCase()], ',');
    case 'Cookie': {
      const cookie = joined(headers['cookie'], '; ');
      return hash.cookie && cookie !== undefined ? cookieValue(cookie, hash.cookie.name) : undefined;
    }
    case 'SourceIP':
      // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; hash them like plain IPv4 ones.
      return remoteAddress?.startsWith('::ffff:') && remoteAddress.includes('.') ? remoteAddress.slice(7) : remoteAddress;
  }
}

function joined(value: string | string[] | undefined, separator: string): string | undefined {
  return Array.isArray(value) ? (value.length > 0 ? value.join(separator) : undefined) : value;
}

/** RFC 6265 `name=value; name=value`; the first pair with that name wins; surrounding quotes are not part of the value. */
function cookieValue(header: string, name: string): string | undefined {
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq > start && eq < end && header.slice(start, eq).trim() === name) {
      const value = header.slice(eq + 1, end).trim();
      return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
    }
    start = end + 1;
  }
  return undefined;
}
