import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { matchesSelector, parseLabelSelector, SelectorError } from './label-selector.ts';

describe('parseLabelSelector', () => {
  it('parses equality, set-based and existence requirements', () => {
    assert.deepEqual(parseLabelSelector(''), []);
    assert.deepEqual(parseLabelSelector('   '), []);
    assert.deepEqual(parseLabelSelector('service=checkout'), [{ key: 'service', operator: '=', values: ['checkout'] }]);
    assert.deepEqual(parseLabelSelector('service==checkout'), [{ key: 'service', operator: '=', values: ['checkout'] }]);
    assert.deepEqual(parseLabelSelector('service!=checkout'), [{ key: 'service', operator: '!=', values: ['checkout'] }]);
    assert.deepEqual(parseLabelSelector('service in (checkout)'), [{ key: 'service', operator: 'in', values: ['checkout'] }]);
    assert.deepEqual(parseLabelSelector('service in(a, b ,c)'), [{ key: 'service', operator: 'in', values: ['a', 'b', 'c'] }]);
    assert.deepEqual(parseLabelSelector('service notin (a)'), [{ key: 'service', operator: 'notin', values: ['a'] }]);
    assert.deepEqual(parseLabelSelector('service'), [{ key: 'service', operator: 'exists', values: [] }]);
    assert.deepEqual(parseLabelSelector('!canary'), [{ key: 'canary', operator: '!exists', values: [] }]);
    assert.deepEqual(parseLabelSelector('app.kubernetes.io/name=checkout'), [{ key: 'app.kubernetes.io/name', operator: '=', values: ['checkout'] }]);
    assert.deepEqual(parseLabelSelector('tier='), [{ key: 'tier', operator: '=', values: [''] }]);
    assert.deepEqual(parseLabelSelector(' service = checkout , window=panic '), [
      { key: 'service', operator: '=', values: ['checkout'] },
      { key: 'window', operator: '=', values: ['panic'] },
    ]);
  });

  it('decodes the form the HPA sends (URL-encoded, spaces as + or %20) once URLSearchParams has run', () => {
    for (const query of ['labelSelector=service%3Dcheckout', 'labelSelector=service+in+%28checkout%29', 'labelSelector=service%20in%20(checkout)']) {
      const selector = new URLSearchParams(query).get('labelSelector') ?? '';
      const [requirement] = parseLabelSelector(selector);
      assert.equal(requirement?.key, 'service', query);
      assert.deepEqual(requirement?.values, ['checkout'], query);
    }
  });

  it('refuses malformed selectors with a SelectorError', () => {
    for (const bad of ['=x', 'service=a,', ',', 'service in a', 'service in (a', 'service in ()', 'service in (a,)', 'service > 3', 'Bad Key=x', 'service=a b', 'service=-x', 'service=(a)', '!', 'a!b', 'x'.repeat(5000)]) {
      assert.throws(() => parseLabelSelector(bad), SelectorError, bad);
    }
  });

  it('never throws anything but SelectorError and always terminates', () => {
    const pieces = fc.constantFrom('service', 'window', 'in', 'notin', '=', '==', '!=', '!', '(', ')', ',', ' ', 'a', 'b-c', 'x.y/z', '%', '');
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.array(pieces, { maxLength: 20 }).map((p) => p.join(''))), (text) => {
        try {
          parseLabelSelector(text);
        } catch (error) {
          assert.ok(error instanceof SelectorError, String(error));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('matchesSelector', () => {
  it('applies Kubernetes semantics', () => {
    const labels = { service: 'checkout' };
    const match = (selector: string): boolean => matchesSelector(parseLabelSelector(selector), labels);
    assert.equal(match(''), true);
    assert.equal(match('service=checkout'), true);
    assert.equal(match('service=catalog'), false);
    assert.equal(match('service in (catalog, checkout)'), true);
    assert.equal(match('service notin (checkout)'), false);
    assert.equal(match('service!=catalog'), true);
    assert.equal(match('service'), true);
    assert.equal(match('!service'), false);
    assert.equal(match('tier=web'), false);
    assert.equal(match('tier!=web'), true);
    assert.equal(match('!tier'), true);
    assert.equal(match('service=checkout,tier=web'), false);
  });
});
