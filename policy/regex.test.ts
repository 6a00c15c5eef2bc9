import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_REGEX_LENGTH, regexProblem } from './regex.ts';

describe('regexProblem', () => {
  it('accepts ordinary patterns', () => {
    for (const pattern of ['/items/[0-9]+', '/api/v[0-9]+(/.*)?', '^/api/v[12]/.*$', '(foo|bar)-[a-z]{2,8}', '[\\(\\)]+', '\\d+\\.\\d+', '(?:ab)+', '']) {
      assert.equal(regexProblem(pattern), undefined, pattern);
    }
  });

  it('rejects patterns that do not compile, saying why', () => {
    assert.equal(regexProblem('(a'), 'invalid regular expression: Unterminated group');
    assert.match(regexProblem('[b-a]') ?? '', /^invalid regular expression: Range out of order/);
  });

  it('rejects nested quantifiers prone to catastrophic backtracking', () => {
    for (const pattern of ['(a+)+$', '(a*)*b', '(x+x+)+y', '(.*a){2,}']) {
      assert.match(regexProblem(pattern) ?? '', /backtrack catastrophically/, pattern);
    }
  });

  it('rejects lookarounds, which RE2 lacks', () => {
    assert.match(regexProblem('foo(?=bar)') ?? '', /^lookahead "\(\?=" is not supported/);
    assert.match(regexProblem('foo(?!bar)') ?? '', /^negative lookahead/);
    assert.match(regexProblem('(?<=a)b') ?? '', /^lookbehind/);
    assert.match(regexProblem('(?<!a)b') ?? '', /^negative lookbehind/);
  });

  it('rejects backreferences, which RE2 lacks', () => {
    assert.match(regexProblem('(a)\\1') ?? '', /^backreference "\\1" is not supported/);
    assert.match(regexProblem('(?<x>a)\\k<x>') ?? '', /^named backreference/);
  });

  it('does not mistake escapes or character classes for lookarounds or backreferences', () => {
    assert.equal(regexProblem('\\(?=x'), undefined);
    assert.equal(regexProblem('[(?=]'), undefined);
    assert.equal(regexProblem('[\\1]'), undefined);
    assert.equal(regexProblem('\\\\'), undefined);
    assert.equal(regexProblem('(?<name>a)'), undefined);
  });

  it('rejects patterns over the length limit', () => {
    assert.equal(regexProblem('a'.repeat(MAX_REGEX_LENGTH)), undefined);
    assert.match(regexProblem('a'.repeat(MAX_REGEX_LENGTH + 1)) ?? '', /1025 characters long; the limit is 1024/);
  });
});
