/**
 * RFC 6902 JSON Patch, written while the pod is mutated: every change goes through a `PatchBuilder`, which applies it
 * to its working copy and records the operation with a path computed against that copy at that moment. Replaying the
 * operations in order on the original therefore yields exactly the copy, as RFC 6902 applies them one after another.
 */
import { isRecord } from './k8s-types.ts';

export type JsonPatchOperation =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

export type PathSegment = string | number;

/** RFC 6901: `~` → `~0`, `/` → `~1`, so `outrigger.dev/status` is `outrigger.dev~1status`. */
export function escapePointerSegment(segment: PathSegment): string {
  return String(segment).replaceAll('~', '~0').replaceAll('/', '~1');
}

export function toPointer(path: readonly PathSegment[]): string {
  return path.map((segment) => `/${escapePointerSegment(segment)}`).join('');
}

/** Plain JSON only: what JSON.stringify would keep, so the patch and the mutated object can never differ. */
function json<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export class PatchBuilder<T> {
  readonly doc: T;
  readonly ops: JsonPatchOperation[] = [];

  constructor(original: T) {
    this.doc = json(original);
  }

  get(path: readonly PathSegment[]): unknown {
    let node: unknown = this.doc;
    for (const segment of path) {
      if (Array.isArray(node) && typeof segment === 'number') node = node[segment];
      else if (isRecord(node) && typeof segment === 'string') node = Object.hasOwn(node, segment) ? node[segment] : undefined;
      else return undefined;
    }
    return node;
  }

  /**
   * Sets an object member. Missing parent objects are created by adding the outermost one whole (`/metadata/annotations`
   * as `{ key: value }`), never by an `add` beneath a path that does not exist.
   */
  set(path: readonly PathSegment[], value: unknown): void {
    const clean = json(value);
    for (let depth = 0; depth < path.length; depth++) {
      const parent = this.get(path.slice(0, depth));
      const segment = path[depth] as PathSegment;
      const exists = isRecord(parent) ? Object.hasOwn(parent, String(segment)) : Array.isArray(parent) && typeof segment === 'number' && segment < parent.length;
      if (!isRecord(parent) && !Array.isArray(parent)) throw new Error(`cannot set ${toPointer(path)}: ${toPointer(path.slice(0, depth))} is not an object`);
      // A member that is null (`annotations:` with nothing after it, in YAML) is replaced as if it were missing.
      if (!exists || depth === path.length - 1 || (parent as Record<string, unknown>)[String(segment)] === null) {
        const nested = path.slice(depth + 1).reduceRight<unknown>((inner, key) => ({ [String(key)]: inner }), clean);
        this.write(parent, segment, nested, exists ? 'replace' : 'add', path.slice(0, depth + 1));
        return;
      }
    }
    throw new Error('cannot replace the whole document');
  }

  /** Inserts into an array at `index` (`'-'` appends); a missing array is added whole as `[value]`. */
  insert(arrayPath: readonly PathSegment[], index: number | '-', value: unknown): void {
    const array = this.get(arrayPath);
    if (array === undefined || array === null) {
      this.set(arrayPath, [value]);
      return;
    }
    if (!Array.isArray(array)) throw new Error(`cannot insert into ${toPointer(arrayPath)}: not an array`);
    const clean = json(value);
    const at = index === '-' ? array.length : index;
    if (at < 0 || at > array.length) throw new Error(`cannot insert at ${toPointer(arrayPath)}/${at}: the array has ${array.length} items`);
    array.splice(at, 0, clean);
    this.ops.push({ op: 'add', path: `${toPointer(arrayPath)}/${index === '-' ? '-' : at}`, value: json(clean) });
  }

  private write(parent: Record<string, unknown> | unknown[], segment: PathSegment, value: unknown, op: 'add' | 'replace', path: readonly PathSegment[]): void {
    if (Array.isArray(parent)) parent[segment as number] = value;
    else parent[String(segment)] = value;
    this.ops.push({ op, path: toPointer(path), value: json(value) });
  }
}
