import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { policyReference } from './reference.ts';

test('docs/policy-reference.md is what the schemas generate (run npm run generate:reference after changing a schema)', () => {
  const committed = readFileSync(new URL('../../docs/policy-reference.md', import.meta.url), 'utf8');
  assert.equal(committed, policyReference());
});

test('the reference lists nested fields with their defaults', () => {
  const text = policyReference();
  for (const kind of ['HTTPRoute', 'TrafficPolicy', 'ServiceEndpoints', 'AutoscalingSignal', 'Mesh']) assert.match(text, new RegExp(`^## ${kind}$`, 'm'));
  assert.match(text, /\| `metadata\.namespace` \| string \| `"default"` \|/);
  assert.match(text, /\| `spec\.endpoints\[\]\.weight` \| integer \| `1` \| ≥ 1, ≤ 128 \|/);
});
