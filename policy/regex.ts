import { regexRisk } from './regex-safety.ts';

export const MAX_REGEX_LENGTH = 1024;

/**
 * Why a `RegularExpression` match value cannot be used, or undefined if it can. Values are compiled as ECMAScript
 * without flags (as the sidecar does), but the Gateway API specifies RE2 syntax, so features RE2 lacks are refused
 * too: a config that works here must keep working on RE2-based meshes. Patterns run against client-chosen input, so
 * ones prone to catastrophic backtracking are refused as well.
 */
export function regexProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_REGEX_LENGTH) {
    return `regular expression is ${pattern.length} characters long; the limit is ${MAX_REGEX_LENGTH}`;
  }
  try {
    new RegExp(pattern);
  } catch (error) {
    // V8 says "Invalid regular expression: /(/: Unterminated group"; the pattern itself is in the YAML already.
    const reason = error instanceof Error ? error.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') : String(error);
    return `invalid regular expression: ${reason}`;
  }
  const unsupported = re2Unsupported(pattern);
  if (unsupported) return `${unsupported} is not supported: match values use RE2 syntax, which has no lookarounds or backreferences`;
  if (regexRisk(pattern) !== undefined) {
    return 'regular expression may backtrack catastrophically: nested quantifiers such as "(a+)+" or more than 25 quantifiers are not allowed';
  }
  return undefined;
}

/** The first lookaround or backreference in a pattern that already compiles, described for a message. */
function re2Unsupported(pattern: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\') {
      const next = pattern[i + 1] ?? '';
      // Inside a class `\1` is an octal escape, not a backreference.
      if (!inClass && /[1-9]/.test(next)) return `backreference "\\${next}"`;
      if (!inClass && next === 'k' && pattern[i + 2] === '<') return 'named backreference "\\k<…>"';
      i++;
    } else if (inClass) {
      if (char === ']') inClass = false;
    } else if (char === '[') {
      inClass = true;
    } else if (char === '(' && pattern[i + 1] === '?') {
      const kind = lookaround(pattern.slice(i + 2, i + 4));
      if (kind) return kind;
    }
  }
  return undefined;
}

function lookaround(afterQuestionMark: string): string | undefined {
  if (afterQuestionMark.startsWith('=')) return 'lookahead "(?="';
  if (afterQuestionMark.startsWith('!')) return 'negative lookahead "(?!"';
  if (afterQuestionMark === '<=') return 'lookbehind "(?<="';
  if (afterQuestionMark === '<!') return 'negative lookbehind "(?<!"';
  return undefined;
}
