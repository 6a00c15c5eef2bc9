import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_INJECTOR_CONFIG, resolveInjectorConfig } from './config.ts';
import { PatchBuilder, toPointer } from './json-patch.ts';
import { applyJsonPatch } from './testdata/json-patch-apply.ts';

describe('resolveInjectorConfig', () => {
  it('defaults as documented', () => {
    assert.deepEqual(resolveInjectorConfig(), DEFAULT_INJECTOR_CONFIG);
    assert.equal(DEFAULT_INJECTOR_CONFIG.image, 'ghcr.io/outrigger-mesh/outrigger:0.1.0');
    assert.equal(DEFAULT_INJECTOR_CONFIG.join, 'outrigger-gossip.outrigger-system.svc.cluster.local:7946');
    assert.deepEqual(DEFAULT_INJECTOR_CONFIG.systemNamespaces, ['kube-system', 'kube-public', 'kube-node-lease', 'outrigger-system']);
  });

  it('ignores undefined overrides and rejects bad values with the field named', () => {
    assert.equal(resolveInjectorConfig({ image: undefined }).image, DEFAULT_INJECTOR_CONFIG.image);
    const bad: [Parameters<typeof resolveInjectorConfig>[0], RegExp][] = [
      [{ sidecarMode: 'sidecar' as 'native' }, /sidecarMode must be native or container/],
      [{ captureMode: 'ebpf' as 'iptables' }, /captureMode must be iptables or explicit/],
      [{ image: 'a b' }, /injector image/],
      [{ join: 'no-port' }, /join must be HOST:PORT/],
      [{ meshKeySecret: 'Bad_Name' }, /meshKeySecret must be a Secret name/],
      [{ systemNamespaces: ['ok', 'NOT OK'] }, /systemNamespaces: "NOT OK"/],
      [{ drainSeconds: -1 }, /drainSeconds must be/],
      [{ excludeOutboundPorts: ['53', 'dns'] }, /excludeOutboundPorts: "dns" is not a port/],
    ];
    for (const [overrides, message] of bad) assert.throws(() => resolveInjectorConfig(overrides), message);
  });
});

describe('PatchBuilder', () => {
  it('escapes ~ and / in pointers (RFC 6901)', () => {
    assert.equal(toPointer(['metadata', 'annotations', 'a~b/c']), '/metadata/annotations/a~0b~1c');
  });

  it('records operations that replay to its document, creating missing parents whole and replacing nulls', () => {
    const original = { metadata: { annotations: null as unknown }, spec: { list: [1, 2] } };
    const builder = new PatchBuilder(original);
    builder.set(['metadata', 'annotations', 'x/y'], 'v');
    builder.set(['metadata', 'labels', 'a'], 'b');
    builder.set(['metadata', 'labels', 'a'], 'c');
    builder.insert(['spec', 'list'], 0, 0);
    builder.insert(['spec', 'list'], '-', 3);
    builder.insert(['spec', 'other'], 0, 'first');
    builder.insert(['spec', 'other'], 1, 'second');
    assert.deepEqual(builder.ops.map((op) => `${op.op} ${op.path}`), [
      'replace /metadata/annotations',
      'add /metadata/labels',
      'replace /metadata/labels/a',
      'add /spec/list/0',
      'add /spec/list/-',
      'add /spec/other',
      'add /spec/other/1',
    ]);
    assert.deepEqual(builder.doc, { metadata: { annotations: { 'x/y': 'v' }, labels: { a: 'c' } }, spec: { list: [0, 1, 2, 3], other: ['first', 'second'] } });
    assert.deepEqual(applyJsonPatch(original, builder.ops), builder.doc);
    assert.deepEqual(original.spec.list, [1, 2], 'the original is not touched');
  });

  it('drops undefined members so the patch and the document agree', () => {
    const builder = new PatchBuilder({ a: {} as Record<string, unknown> });
    builder.set(['a', 'b'], { keep: 1, drop: undefined });
    assert.deepEqual(builder.doc, { a: { b: { keep: 1 } } });
    assert.deepEqual(builder.ops[0], { op: 'add', path: '/a/b', value: { keep: 1 } });
  });
});
