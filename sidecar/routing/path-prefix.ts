/**
 * Gateway API `PathPrefix` semantics: the prefix matches whole path elements, split by `/`.
 * `/foo` matches `/foo`, `/foo/` and `/foo/bar`, but not `/foobar`. A trailing slash in the prefix is ignored, so
 * `/foo/` is the same prefix as `/foo`, and `/` matches every path.
 */

/** Removes trailing slashes: `/foo/` → `/foo`, `/` → `''` (the prefix that matches every path). */
export function normalizePrefix(value: string): string {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 0x2f /* / */) end--;
  return end === value.length ? value : value.slice(0, end);
}

/** Whether `path` starts with the already-normalized `prefix` at an element boundary. */
export function prefixMatches(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  if (path.length === prefix.length) return true;
  return path.charCodeAt(prefix.length) === 0x2f /* / */;
}

/**
 * A small-integer key for the first path element (between the leading `/` and the next one), for indexing rules by
 * it without allocating a substring per request: its length and its first and last characters, 10 bits each (a
 * SMI, so Map lookups do not box). Different elements may share a key; the index only narrows the candidates, and
 * each candidate is still tested in full.
 */
export function firstSegmentKey(path: string): number {
  let end = path.indexOf('/', 1);
  if (end < 0) end = path.length;
  const length = end - 1;
  if (length <= 0) return 0;
  return ((length & 0x3ff) << 20) | ((path.charCodeAt(1) & 0x3ff) << 10) | (path.charCodeAt(end - 1) & 0x3ff);
}
