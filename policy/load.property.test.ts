import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { KINDS } from './schema/index.ts';
import { loadPolicyTexts } from './load.ts';
import type { LoadResult } from './load.ts';

/** The loader's contract: it never throws, and a failure always carries at least one located error. */
function assertWellFormed(result: LoadResult, files: readonly string[]): void {
  if (result.ok) return;
  assert.ok(result.errors.length > 0, 'a failed load has errors');
  for (const error of result.errors) {
    assert.ok(files.includes(error.file), `unknown file ${error.file}`);
    assert.ok(Number.isInteger(error.line) && error.line >= 1, `line ${error.line}`);
    assert.ok(Number.isInteger(error.column) && error.column >= 1, `column ${error.column}`);
    assert.equal(typeof error.path, 'string');
    assert.ok(error.message.length > 0, 'message');
  }
}

function load(texts: readonly string[]): void {
  const files = texts.map((text, i) => ({ file: `f${i}.yaml`, text }));
  assertWellFormed(loadPolicyTexts(files), files.map(({ file }) => file));
}

const YAML_PIECES = [
  'a', 'b: ', ':', ' ', '  ', '\n', '- ', '[', ']', '{', '}', ',', '&x ', '*x', '!!str ', '!t ', '# c', '"', "'", '|\n', '>\n',
  '---\n', '...\n', '? ', '\t', '%YAML 1.1\n', 'apiVersion: outrigger.dev/v1alpha1\n', 'kind: Mesh\n', 'metadata: {name: m}\n',
  'kind: HTTPRoute\n', 'apiVersion: gateway.networking.k8s.io/v1\n', 'spec:\n', 'name: x\n', '1e9', '-.inf', '~', 'null',
];

const kindKeys = Object.keys(KINDS).map((key) => ({
  apiVersion: key.slice(0, key.lastIndexOf('/')),
  kind: key.slice(key.lastIndexOf('/') + 1),
}));

/** Objects shaped like resources, so the fuzzing reaches the schemas and the checks across resources. */
const resourceLike = fc.record(
  {
    kindKey: fc.constantFrom(...kindKeys),
    metadata: fc.oneof(fc.record({ name: fc.constantFrom('a', 'b', 'catalog', 'Bad Name'), namespace: fc.constantFrom('default', 'shop') }), fc.jsonValue()),
    spec: fc.oneof(
      fc.jsonValue(),
      fc.record({ parentRefs: fc.constant([{ name: 'a' }]), rules: fc.array(fc.dictionary(fc.constantFrom('matches', 'filters', 'backendRefs', 'timeouts'), fc.jsonValue())) }),
      fc.record({ targetRefs: fc.array(fc.record({ name: fc.constantFrom('a', 'b') })), fallback: fc.jsonValue() }),
      fc.record({ endpoints: fc.array(fc.record({ address: fc.constantFrom('127.0.0.1:80', 'x', '[::1]:99999') })) }),
    ),
  },
  { requiredKeys: ['kindKey'] },
).map(({ kindKey, ...rest }) => ({ ...kindKey, ...rest }));

describe('loadPolicyTexts on arbitrary input', () => {
  it('never throws on arbitrary strings', () => {
    fc.assert(fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 3 }), load), { numRuns: 300 });
  });

  it('never throws on strings assembled from YAML syntax', () => {
    const yamlish = fc.array(fc.constantFrom(...YAML_PIECES), { maxLength: 60 }).map((pieces) => pieces.join(''));
    fc.assert(fc.property(fc.array(yamlish, { minLength: 1, maxLength: 3 }), load), { numRuns: 500 });
  });

  it('never throws on arbitrary JSON-like values dumped to YAML', () => {
    const documents = fc.array(fc.oneof(fc.jsonValue(), fc.object(), resourceLike), { minLength: 1, maxLength: 4 });
    const text = documents.map((values) => values.map((value) => stringify(value)).join('---\n'));
    fc.assert(fc.property(fc.array(text, { minLength: 1, maxLength: 2 }), load), { numRuns: 300 });
  });
});

describe('loadPolicyTexts on the seed corpus (testdata/fuzz-corpus)', () => {
  const corpus = join(import.meta.dirname, 'testdata', 'fuzz-corpus');
  const texts = readdirSync(corpus)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(corpus, name), 'utf8') }));

  for (const { name, text } of texts) {
    it(`never throws on ${name}`, () => load([text]));
  }

  it('never throws on the whole corpus loaded together (the checks across resources see every document)', () => {
    load(texts.map(({ text }) => text));
  });
});
