import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPolicyTexts } from './load.ts';

function timedErrors(text: string): { messages: string[]; ms: number } {
  const started = performance.now();
  const result = loadPolicyTexts([{ file: 'abuse.yaml', text }]);
  const ms = performance.now() - started;
  assert.equal(result.ok, false);
  return { messages: result.ok ? [] : result.errors.map((e) => `${e.line}:${e.column} ${e.message}`), ms };
}

describe('abusive YAML', () => {
  it('rejects a billion-laughs alias bomb quickly', () => {
    const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]`);
    const { messages, ms } = timedErrors(`${lines.join('\n')}\n`);
    assert.deepEqual(messages, ['2:10 YAML: Excessive alias count indicates a resource exhaustion attack']);
    assert.ok(ms < 2_000, `took ${ms} ms`);
  });

  it('rejects more than 100 aliases before resolving any of them', () => {
    const items = Array.from({ length: 5_000 }, (_, i) => `- &x${i} ${i}\n- *x${i}\n`).join('');
    const { messages, ms } = timedErrors(items);
    assert.deepEqual(messages, ['202:3 YAML: more than 100 aliases in one document']);
    assert.ok(ms < 5_000, `took ${ms} ms`);
  });

  it('rejects an alias inside the node it refers to, which would make the value cyclic', () => {
    assert.deepEqual(timedErrors('status: &loop [1, *loop]\n').messages, ['1:19 YAML: alias *loop refers to a node that contains it']);
  });

  it('rejects an alias without an anchor at the alias', () => {
    assert.deepEqual(timedErrors('a: &x 1\nb: *x\nc: *y\n').messages, ['3:4 YAML: Unresolved alias (the anchor must be set before the alias): y']);
  });

  it('checks duplicate keys in linear time', () => {
    const keys = Array.from({ length: 30_000 }, (_, i) => `k${i}: ${i}`).join('\n');
    const { messages, ms } = timedErrors(`${keys}\nk0: again\n`);
    assert.deepEqual(messages, ['30001:1 YAML: duplicate key "k0" (first at line 1)']);
    assert.ok(ms < 5_000, `took ${ms} ms`);
  });

  it('rejects keys that are collections', () => {
    assert.deepEqual(timedErrors('? [a, b]\n: 1\n').messages, ['1:3 YAML: mapping keys must be plain scalars, not lists, mappings or aliases']);
  });

  it('reports absurd nesting instead of throwing', () => {
    const { messages } = timedErrors(`${'['.repeat(20_000)}${']'.repeat(20_000)}\n`);
    assert.ok(messages.length > 0);
    assert.ok(messages.every((message) => message.includes('YAML:')), messages.join('\n'));
  });
});
