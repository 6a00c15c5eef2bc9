import { isAlias, isCollection, isMap, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter, Node, Pair } from 'yaml';

/** A field path as zod reports it: keys and array indexes from the document root. */
export type FieldPath = readonly PropertyKey[];

export interface Position {
  line: number;
  column: number;
}

export interface LocateOptions {
  /** Point at the key of the last path element instead of its value, e.g. for an unknown field. */
  key?: boolean;
}

/**
 * Finds where `path` is written in a parsed YAML document. When the path does not exist in the source (a missing
 * required field, a default that was filled in), the nearest ancestor that does exist is used instead.
 */
export function locate(doc: Document, lineCounter: LineCounter, path: FieldPath, options: LocateOptions = {}): Position {
  const { line, col } = lineCounter.linePos(locateOffset(doc, path, options));
  return { line, column: col };
}

/** The character offset `locate` resolves to. */
export function locateOffset(doc: Document, path: FieldPath, options: LocateOptions = {}): number {
  let node: unknown = doc.contents;
  let offset = startOf(node) ?? 0;
  for (const [index, segment] of path.entries()) {
    node = isAlias(node) ? node.resolve(doc) : node;
    const isLast = index === path.length - 1;
    if (isMap(node)) {
      const pair = findPair(node.items, segment);
      if (!pair) return offset;
      const keyOffset = startOf(pair.key) ?? offset;
      if (isLast && options.key) return keyOffset;
      node = pair.value;
      offset = pointsAtValue(pair.value) ? (startOf(pair.value) ?? keyOffset) : keyOffset;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) return offset;
      node = item;
      offset = startOf(item) ?? offset;
    } else {
      return offset;
    }
  }
  return offset;
}

/** Renders a path the way a reader would write it: `spec.rules[0]["app.kubernetes.io/name"]`. */
export function formatPath(path: FieldPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_][\w-]*$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}

function findPair(items: Pair<unknown, unknown>[], segment: PropertyKey): Pair<unknown, unknown> | undefined {
  const wanted = String(segment);
  // Later duplicates win in the parsed value, so search from the end (duplicates are reported separately).
  for (let i = items.length - 1; i >= 0; i--) {
    const pair = items[i];
    if (pair && isScalar(pair.key) && String(pair.key.value) === wanted) return pair;
  }
  return undefined;
}

/**
 * A scalar or a flow collection (`[a, b]`, `{a: 1}`) is pointed at directly; a block collection starts on the next
 * line, so the key that introduces it is the better place to point at.
 */
function pointsAtValue(value: unknown): boolean {
  if (isScalar(value)) return value.source !== '' && value.source !== undefined;
  if (isAlias(value)) return true;
  return isCollection(value) && value.flow === true;
}

function startOf(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}
