import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_META_BYTES } from '../gossip/codec.ts';
import { decodeMemberMeta, encodeMemberMeta, type MeshMemberMeta } from './member-meta.ts';

test('member metadata round-trips compactly', () => {
  const meta: MeshMemberMeta = { role: 'sidecar', service: 'catalog.shop', address: '10.1.2.3:15006', zone: 'eu-west-1a', configVersion: 42, configHash: '0123456789abcdef', api: '127.0.0.1:15000' };
  const bytes = encodeMemberMeta(meta);
  assert.ok(bytes.length < 160, `${bytes.length} bytes`);
  assert.deepEqual(decodeMemberMeta(bytes), meta);
});

test('a long rejection message is shortened to fit the 512-byte budget, the rest intact', () => {
  const meta: MeshMemberMeta = { role: 'sidecar', service: 'catalog.shop', address: '10.1.2.3:15006', configVersion: 7, configHash: 'abcd', rejected: { version: 8, error: 'x'.repeat(2_000) } };
  const bytes = encodeMemberMeta(meta);
  assert.ok(bytes.length <= MAX_META_BYTES);
  const decoded = decodeMemberMeta(bytes);
  assert.equal(decoded?.rejected?.version, 8);
  assert.ok(decoded?.rejected?.error.endsWith('…'));
  assert.equal(decoded?.service, 'catalog.shop');
});

test('foreign or malformed metadata decodes to undefined, never throws', () => {
  for (const text of ['', 'null', '[]', '{"r":"x","v":1,"h":""}', '{"r":"s","v":-1,"h":""}', '{"r":"s","v":1.5,"h":""}', '\u0000\u00ff']) {
    assert.equal(decodeMemberMeta(new TextEncoder().encode(text)), undefined, text);
  }
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
    decodeMemberMeta(bytes);
  }));
});
