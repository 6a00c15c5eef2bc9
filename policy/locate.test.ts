import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineCounter, parseDocument } from 'yaml';
import { formatPath, locate } from './locate.ts';
import type { FieldPath, LocateOptions } from './locate.ts';

const SOURCE = `spec:
  rules:
    - matches:
        - path: { type: Exact, value: /a }
        - path:
            type: PathPrefix
            value: /b
      backendRefs:
        - name: catalog
          weigth: 3
  empty:
`;

function at(path: FieldPath, options?: LocateOptions): [number, number] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(SOURCE, { lineCounter });
  const { line, column } = locate(doc, lineCounter, path, options);
  return [line, column];
}

describe('locate', () => {
  it('finds a scalar value in a block mapping', () => {
    assert.deepEqual(at(['spec', 'rules', 0, 'matches', 1, 'path', 'value']), [7, 20]);
  });

  it('finds a value inside a flow mapping', () => {
    assert.deepEqual(at(['spec', 'rules', 0, 'matches', 0, 'path', 'value']), [4, 39]);
  });

  it('points at the key that introduces a block collection', () => {
    assert.deepEqual(at(['spec', 'rules', 0, 'backendRefs']), [8, 7]);
  });

  it('points at a list item where it starts', () => {
    assert.deepEqual(at(['spec', 'rules', 0, 'backendRefs', 0]), [9, 11]);
  });

  it('points at the key itself when asked, as for an unknown field', () => {
    assert.deepEqual(at(['spec', 'rules', 0, 'backendRefs', 0, 'weigth'], { key: true }), [10, 11]);
  });

  it('falls back to the nearest existing ancestor for a missing field', () => {
    assert.deepEqual(at(['spec', 'rules', 0, 'matches', 1, 'path', 'headers', 0, 'name']), [5, 11]);
  });

  it('falls back to the list for an index past its end', () => {
    assert.deepEqual(at(['spec', 'rules', 3]), [2, 3]);
  });

  it('points at the key of an empty value', () => {
    assert.deepEqual(at(['spec', 'empty']), [11, 3]);
  });

  it('points at the document start for the root', () => {
    assert.deepEqual(at([]), [1, 1]);
  });

  it('follows aliases to the anchored node', () => {
    const lineCounter = new LineCounter();
    const doc = parseDocument('base: &b\n  port: 80\nother: *b\n', { lineCounter });
    assert.deepEqual(locate(doc, lineCounter, ['other', 'port']), { line: 2, column: 9 });
  });
});

describe('formatPath', () => {
  it('writes keys with dots and indexes with brackets', () => {
    assert.equal(formatPath(['spec', 'rules', 0, 'matches', 1, 'path', 'value']), 'spec.rules[0].matches[1].path.value');
  });

  it('quotes keys that are not plain names', () => {
    assert.equal(formatPath(['metadata', 'labels', 'app.kubernetes.io/name']), 'metadata.labels["app.kubernetes.io/name"]');
  });

  it('is empty for the root', () => {
    assert.equal(formatPath([]), '');
  });
});
