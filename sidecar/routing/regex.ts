import { regexRisk } from '../../policy/regex-safety.ts';

/**
 * Compiles a Gateway API `RegularExpression` match value, once, at config load.
 *
 * - Syntax is ECMAScript (no flags). Gateway API leaves the dialect to the implementation; Envoy uses RE2, whose
 *   common subset (classes, alternation, bounded and unbounded repetition, anchors) means the same here.
 * - Matching is anchored to the whole value, like RE2's FullMatch: the pattern is wrapped as `^(?:…)$`. It is
 *   compiled on its own first, so a pattern such as `a)|(?:b` that only becomes valid when wrapped is rejected
 *   instead of silently losing its anchors.
 * - The pattern runs against paths and headers chosen by the client, so patterns that can backtrack exponentially
 *   are rejected (see regex-safety.ts).
 *
 * Throws an Error whose message says why the pattern was refused.
 */
export function compileFullMatch(pattern: string): RegExp {
  try {
    new RegExp(pattern);
  } catch (error) {
    throw new Error(`invalid regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}`, { cause: error });
  }
  const risk = regexRisk(pattern);
  if (risk === 'nested-repetition') {
    throw new Error(`regular expression ${JSON.stringify(pattern)} repeats a repetition, so it can backtrack catastrophically`);
  }
  if (risk === 'too-many-repetitions') {
    throw new Error(`regular expression ${JSON.stringify(pattern)} has too many repetitions to run safely on request data`);
  }
  return new RegExp(`^(?:${pattern})$`);
}

const META = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}']);

/**
 * Literal text that every full match of `pattern` starts with, for indexing; `''` when unknown. Conservative: a
 * pattern with `|` anywhere gives `''`, and a literal character followed by `?`, `*` or `{` is not counted.
 */
export function literalPrefix(pattern: string): string {
  if (pattern.includes('|')) return '';
  let end = 0;
  while (end < pattern.length && !META.has(pattern.charAt(end))) end++;
  const next = pattern.charAt(end);
  if (next === '?' || next === '*' || next === '{') end--;
  return end > 0 ? pattern.slice(0, end) : '';
}
