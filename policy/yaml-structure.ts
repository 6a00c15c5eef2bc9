import { isNode, isScalar, visit } from 'yaml';
import type { Document, LineCounter } from 'yaml';

export interface StructureProblem {
  offset: number;
  message: string;
}

/** A config needs no aliases at all; a handful is generous. */
export const MAX_ALIASES = 100;

/**
 * Problems the yaml package would find only in quadratic time, or not at all, found here in one linear pass:
 *
 * - Duplicate keys. The package's `uniqueKeys` compares each key with every earlier one: a file of 100k keys stalls
 *   the process for minutes. Keys are compared as the strings they become in the parsed value, so `1` and `"1"`
 *   collide too.
 * - Keys that are lists, mappings or aliases: they would be stringified into nonsense field names.
 * - Aliases inside the node they refer to: the parsed value would be cyclic.
 * - Too many aliases. Each alias is resolved by scanning the document, so thousands of them cost quadratic time even
 *   when `maxAliasCount` (which bounds how far they expand) is never reached.
 */
export function findStructureProblems(doc: Document.Parsed, lineCounter: LineCounter, limit: number): StructureProblem[] {
  const problems: StructureProblem[] = [];
  let aliases = 0;
  visit(doc, {
    Alias(_key, alias, ancestors) {
      aliases += 1;
      const offset = alias.range?.[0] ?? 0;
      if (aliases > MAX_ALIASES) {
        problems.push({ offset, message: `more than ${MAX_ALIASES} aliases in one document` });
        return visit.BREAK;
      }
      if (ancestors.some((node) => isNode(node) && node.anchor === alias.source)) {
        problems.push({ offset, message: `alias *${alias.source} refers to a node that contains it` });
      }
      return problems.length >= limit ? visit.BREAK : undefined;
    },
    Map(_key, map) {
      const seen = new Map<string, number>();
      for (const pair of map.items) {
        const offset = (pair.key as { range?: [number, number, number] } | null)?.range?.[0] ?? map.range?.[0] ?? 0;
        if (!isScalar(pair.key)) {
          problems.push({ offset, message: 'mapping keys must be plain scalars, not lists, mappings or aliases' });
        } else {
          const name = String(pair.key.value);
          const first = seen.get(name);
          if (first === undefined) seen.set(name, offset);
          else problems.push({ offset, message: `duplicate key "${name}" (first at line ${lineCounter.linePos(first).line})` });
        }
        if (problems.length >= limit) return visit.BREAK;
      }
      return undefined;
    },
  });
  return problems;
}
