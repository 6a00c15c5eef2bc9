import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFullMatch, literalPrefix } from './regex.ts';
import { regexRisk } from '../../policy/regex-safety.ts';

describe('compileFullMatch', () => {
  it('anchors the whole pattern, alternation included', () => {
    const re = compileFullMatch('/a|/ab');
    assert.equal(re.test('/ab'), true);
    assert.equal(re.test('/a'), true);
    assert.equal(re.test('/abc'), false);
    assert.equal(re.test('x/a'), false);
  });

  it('rejects invalid patterns, including ones only valid once wrapped', () => {
    assert.throws(() => compileFullMatch('('), /invalid regular expression/);
    assert.throws(() => compileFullMatch('a)|(?:b'), /invalid regular expression/);
  });
});

describe('regexRisk', () => {
  const safe = [
    '/api/v[0-9]+(/.*)?',
    '.*',
    '/a+/b*/c{1,3}',
    '(?:ab)?c+',
    '[(]+[)]*',
    '\\(a+\\)+',
    '(?<ver>v[0-9]+)/.*',
    '(?<=x)a+',
    '(a|b)c*',
    '[]a+',
    'a{2}(b+){1}',
    'x{,}+',
    '(a+)?',
  ];
  const nested = ['(a+)+', '(a*)*', '(a*b?)*', '(.*,){3,}', '((a+)?)+', '(?:x+y)+', '(a+){2,3}', '([a-z]+.)+$'];
  for (const pattern of safe) {
    it(`accepts ${pattern}`, () => assert.equal(regexRisk(pattern), undefined));
  }
  for (const pattern of nested) {
    it(`rejects ${pattern} as nested repetition`, () => assert.equal(regexRisk(pattern), 'nested-repetition'));
  }
  it('caps the number of repetitions', () => {
    assert.equal(regexRisk('a+'.repeat(25)), undefined);
    assert.equal(regexRisk('a+'.repeat(26)), 'too-many-repetitions');
  });
});

describe('literalPrefix', () => {
  const cases: [string, string][] = [
    ['/api/v[0-9]+/.*', '/api/v'],
    ['/api/v1', '/api/v1'],
    ['/apis?/x', '/api'],
    ['/api*/x', '/ap'],
    ['/api{2}/x', '/ap'],
    ['/api+/x', '/api'],
    ['/a\\.b', '/a'],
    ['/a|/b', ''],
    ['/(a)|b', ''],
    ['.*', ''],
    ['^/x', ''],
    ['a?', ''],
  ];
  for (const [pattern, want] of cases) {
    it(`${pattern} → ${JSON.stringify(want)}`, () => {
      assert.equal(literalPrefix(pattern), want);
      // Whatever it returns must begin every string the pattern fully matches.
      const re = compileFullMatch(pattern);
      for (const sample of ['/api/v1/x', '/api/v1', '/apiii/x', '/ap/x', '/a.b', '/b', '/x', 'a', '']) {
        if (re.test(sample)) assert.ok(sample.startsWith(want), `${sample} does not start with ${want}`);
      }
    });
  }
});
