import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DiscoveredEndpoint } from './discovery-source.ts';
import { mergeEndpoints, SUSPECT_WEIGHT_FACTOR } from './merge-endpoints.ts';

const found = (address: string, state: DiscoveredEndpoint['state'] = 'healthy', weight = 1, zone?: string): DiscoveredEndpoint => ({ address, weight, state, ...(zone ? { zone } : {}) });

test('YAML endpoints come first and win over discovered ones at the same address', () => {
  const merged = mergeEndpoints([{ address: '10.0.0.1:80', weight: 3, zone: 'a' }], [found('10.0.0.1:80', 'suspect', 1, 'b'), found('10.0.0.2:80')]);
  assert.deepEqual(merged, [
    { address: '10.0.0.1:80', weight: 3, zone: 'a', origin: 'static', suspect: false },
    { address: '10.0.0.2:80', weight: 1, zone: undefined, origin: 'discovered', suspect: false },
  ]);
});

test('a suspect endpoint keeps a tenth of its weight', () => {
  assert.equal(SUSPECT_WEIGHT_FACTOR, 0.1);
  const [e] = mergeEndpoints(undefined, [found('10.0.0.1:80', 'suspect', 5)]);
  assert.deepEqual(e, { address: '10.0.0.1:80', weight: 0.5, zone: undefined, origin: 'discovered', suspect: true });
});

test('each address once: the first YAML entry, and among discovered claims the healthy one', () => {
  const merged = mergeEndpoints(
    [
      { address: '10.0.0.1:80', weight: 1 },
      { address: '10.0.0.1:80', weight: 7 },
    ],
    [found('10.0.0.2:80', 'suspect'), found('10.0.0.2:80', 'healthy', 2), found('10.0.0.2:80', 'suspect', 9), found('10.0.0.3:80'), found('10.0.0.3:80', 'healthy', 4)],
  );
  assert.deepEqual(
    merged.map((e) => [e.address, e.weight, e.suspect]),
    [
      ['10.0.0.1:80', 1, false],
      ['10.0.0.2:80', 2, false],
      ['10.0.0.3:80', 1, false],
    ],
  );
});

test('invalid discovered endpoints are skipped and reported', () => {
  const problems: string[] = [];
  const merged = mergeEndpoints(undefined, [found('nope'), found('10.0.0.1:80', 'healthy', -1), found('10.0.0.2:80')], (p) => problems.push(p));
  assert.deepEqual(
    merged.map((e) => e.address),
    ['10.0.0.2:80'],
  );
  assert.equal(problems.length, 2);
});

test('nothing in, nothing out', () => {
  assert.deepEqual(mergeEndpoints(undefined, undefined), []);
  assert.deepEqual(mergeEndpoints([], []), []);
});
