import type { HttpCase } from './run-case.ts';

/**
 * Known bugs in the request path, each kept as a todo case in test/fuzz-corpus/http. Generated cases that would hit
 * one are skipped, so the properties keep testing everything else instead of finding the same bug on every run.
 * The patterns are deliberately broad. When a bug is fixed, delete its entry and drop `todo` from its corpus case.
 * One more gap depends on timing rather than bytes and is recognised by its symptom: see `Verdict.knownGap`.
 */
export const KNOWN_GAPS: readonly { corpusCase: string; hits: (bytes: string) => boolean }[] = [
  // A request line whose target (second word) contains '#'.
  { corpusCase: 'fragment-in-target', hits: (bytes) => /(?:^|\n)[^ \r\n]+ +[^ \r\n]*#/.test(bytes) },
  // A request line whose target ends with an empty query.
  { corpusCase: 'empty-query-keeps-question-mark', hits: (bytes) => /(?:^|\n)[^ \r\n]+ +[^ \r\n]*\?(?: |\r|\n|$)/.test(bytes) },
  // An h2c upgrade offer the listener declines: whatever follows it in the same packet is lost.
  { corpusCase: 'h2c-then-pipelined-request', hits: (bytes) => /upgrade[ \t]*:[^\r\n]*h2c/i.test(bytes) },
  // A field named __proto__ is dropped on the way (it is a valid token).
  { corpusCase: 'proto-field-name-dropped', hits: (bytes) => /(?:^|\n)__proto__[ \t]*:/i.test(bytes) },
  // HTTP/1.0 with both `close` and `keep-alive`: llhttp keeps the connection open.
  { corpusCase: 'http10-close-and-keep-alive', hits: (bytes) => /HTTP\/1\.0/.test(bytes) && /close/i.test(bytes) && /keep-alive/i.test(bytes) },
];

export const hitsKnownGap = (fuzzCase: HttpCase): boolean => {
  const bytes = fuzzCase.parts.join('');
  return KNOWN_GAPS.some((gap) => gap.hits(bytes));
};
