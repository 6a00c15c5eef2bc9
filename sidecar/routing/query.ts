/**
 * Query-string parsing for `queryParams` matches, done at most once per request and only when a candidate rule has
 * query matches (the route table decides when).
 *
 * - Pairs are split on `&`; a pair without `=` has the value `''`; pairs with an empty name are skipped.
 * - Names and values are percent-decoded. `+` is kept as is: RFC 3986 queries are not form-encoded, and Envoy's
 *   query matcher does not turn `+` into a space either. A malformed escape (`%zz`) leaves that part undecoded
 *   rather than failing the request.
 * - When a name appears several times, the first value wins (Gateway API lets implementations choose; Envoy and
 *   most proxies take the first).
 */
export function parseQueryFirst(raw: string, wanted: ReadonlySet<string>): Map<string, string> {
  const params = new Map<string, string>();
  let start = 0;
  while (start <= raw.length) {
    let end = raw.indexOf('&', start);
    if (end < 0) end = raw.length;
    if (end > start) {
      const eq = raw.indexOf('=', start);
      const nameEnd = eq >= 0 && eq < end ? eq : end;
      const name = decode(raw.slice(start, nameEnd));
      if (name !== '' && wanted.has(name) && !params.has(name)) {
        params.set(name, nameEnd === end ? '' : decode(raw.slice(nameEnd + 1, end)));
      }
    }
    start = end + 1;
  }
  return params;
}

function decode(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
