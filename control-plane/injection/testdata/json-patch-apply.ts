/**
 * A tiny, strict RFC 6902 applier for the tests (add, remove, replace; test/move/copy are never generated), written
 * apart from the code under test so that "applying the patch gives the mutated pod" is checked independently.
 */
export interface Operation {
  op: string;
  path: string;
  value?: unknown;
}

function parse(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`bad pointer ${pointer}`);
  return pointer.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function arrayIndex(token: string, length: number, forAdd: boolean): number {
  if (forAdd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Error(`bad array index ${token}`);
  const index = Number(token);
  if (index > length || (!forAdd && index === length)) throw new Error(`index ${index} out of bounds (${length})`);
  return index;
}

export function applyJsonPatch<T>(document: T, ops: readonly Operation[]): T {
  let root: unknown = structuredClone(document);
  for (const { op, path, value } of ops) {
    const tokens = parse(path);
    if (tokens.length === 0) {
      if (op === 'remove') throw new Error('cannot remove the root');
      root = structuredClone(value);
      continue;
    }
    let parent: unknown = root;
    for (const token of tokens.slice(0, -1)) {
      if (Array.isArray(parent)) parent = parent[arrayIndex(token, parent.length, false)];
      else if (typeof parent === 'object' && parent !== null && Object.hasOwn(parent, token)) parent = (parent as Record<string, unknown>)[token];
      else throw new Error(`${path}: parent ${token} does not exist`);
    }
    const last = tokens[tokens.length - 1] as string;
    if (Array.isArray(parent)) {
      const index = arrayIndex(last, parent.length, op === 'add');
      if (op === 'add') parent.splice(index, 0, structuredClone(value));
      else if (op === 'replace') parent[index] = structuredClone(value);
      else if (op === 'remove') parent.splice(index, 1);
      else throw new Error(`unsupported op ${op}`);
    } else if (typeof parent === 'object' && parent !== null) {
      const object = parent as Record<string, unknown>;
      if ((op === 'replace' || op === 'remove') && !Object.hasOwn(object, last)) throw new Error(`${path}: ${op} of a missing member`);
      if (op === 'add' || op === 'replace') object[last] = structuredClone(value);
      else if (op === 'remove') delete object[last];
      else throw new Error(`unsupported op ${op}`);
    } else {
      throw new Error(`${path}: parent is not a container`);
    }
  }
  return root as T;
}
