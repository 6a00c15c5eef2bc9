/**
 * A conservative check for regular expressions that can backtrack exponentially, for patterns that run against
 * client-chosen paths and headers.
 *
 * The classic cause is a repeated group that itself contains repetition — `(a+)+`, `(a*b?)*`, `(.*,){3,}` — a star
 * height above 1. Only quantifiers that can repeat count (`*`, `+`, `{n,}`, `{n,m}` with m > 1); `?` and `{0,1}` do
 * not, so the common `/api/v[0-9]+(/.*)?` is accepted (safe-regex2 counts `?` as well and rejects it, which is why
 * it is not used here). Like safe-regex2, the number of repeating quantifiers is also capped.
 *
 * The pattern is assumed to be a valid ECMAScript pattern (compile it first). This does not catch every slow
 * pattern (overlapping alternatives such as `(a|a)*`, polynomial chains such as `.*a.*b.*c`); node's 16 KiB limit on
 * request heads bounds those.
 */
const MAX_REPETITIONS = 25;

export type RegexRisk = 'nested-repetition' | 'too-many-repetitions' | undefined;

export function regexRisk(pattern: string): RegexRisk {
  // For each open group: whether it contains a repeating quantifier so far.
  const groups: boolean[] = [false];
  let lastAtomRepeats = false;
  let repetitions = 0;
  let i = 0;
  while (i < pattern.length) {
    const char = pattern[i];
    const quantifier = readQuantifier(pattern, i);
    if (quantifier !== undefined) {
      if (quantifier.max > 1) {
        if (lastAtomRepeats) return 'nested-repetition';
        if (++repetitions > MAX_REPETITIONS) return 'too-many-repetitions';
        groups[groups.length - 1] = true;
      }
      lastAtomRepeats = false;
      i = quantifier.end;
      continue;
    }
    lastAtomRepeats = false;
    if (char === '\\') {
      i += 2;
    } else if (char === '[') {
      i = classEnd(pattern, i + 1);
    } else if (char === '(') {
      groups.push(false);
      i = groupBodyStart(pattern, i + 1);
    } else if (char === ')') {
      const inner = groups.length > 1 ? (groups.pop() ?? false) : false;
      if (inner) groups[groups.length - 1] = true;
      lastAtomRepeats = inner;
      i++;
    } else {
      i++;
    }
  }
  return undefined;
}

const BRACES = /^\{([0-9]+)(,([0-9]*))?\}/;

/** A quantifier starting at `i`, with its maximum count and where it ends (after a lazy `?`). */
function readQuantifier(pattern: string, i: number): { max: number; end: number } | undefined {
  const char = pattern[i];
  let max: number;
  let end: number;
  if (char === '*' || char === '+') {
    max = Number.POSITIVE_INFINITY;
    end = i + 1;
  } else if (char === '?') {
    max = 1;
    end = i + 1;
  } else if (char === '{') {
    // Outside unicode mode, a `{` that does not form a quantifier is a literal.
    const braces = BRACES.exec(pattern.slice(i, i + 24));
    if (braces === null) return undefined;
    const upper = braces[3];
    max = braces[2] === undefined ? Number(braces[1]) : upper === '' || upper === undefined ? Number.POSITIVE_INFINITY : Number(upper);
    end = i + braces[0].length;
  } else {
    return undefined;
  }
  if (pattern[end] === '?') end++;
  return { max, end };
}

/** Index after the `]` closing a character class whose body starts at `i` (in ECMAScript, `[]` is empty). */
function classEnd(pattern: string, i: number): number {
  let j = i;
  while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
  return j + 1;
}

/** Skips a group's `?:`, `?=`, `?!`, `?<=`, `?<!` or `?<name>` prefix. */
function groupBodyStart(pattern: string, i: number): number {
  if (pattern[i] !== '?') return i;
  const kind = pattern[i + 1];
  if (kind === '<') {
    const next = pattern[i + 2];
    if (next === '=' || next === '!') return i + 3;
    const close = pattern.indexOf('>', i + 2);
    return close < 0 ? pattern.length : close + 1;
  }
  return i + 2;
}
