import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { discoveredEndpointProblem, isServiceKey, StaticDiscoverySource, type DiscoveredEndpoint } from './discovery-source.ts';

const healthy = (address: string, weight = 1): DiscoveredEndpoint => ({ address, weight, state: 'healthy' });

describe('StaticDiscoverySource', () => {
  test('set, delete and replaceAll publish a new map and notify every subscriber once', () => {
    const source = new StaticDiscoverySource();
    let calls = 0;
    source.subscribe(() => calls++);
    const before = source.current();
    source.set('catalog.default', [healthy('10.0.0.1:80')]);
    assert.equal(calls, 1);
    assert.equal(before.size, 0, 'a map already handed out never changes');
    assert.deepEqual(source.current().get('catalog.default'), [healthy('10.0.0.1:80')]);
    source.replaceAll([['a.x', [healthy('10.0.0.2:80')]], ['b.x', []]]);
    assert.equal(calls, 2);
    assert.deepEqual([...source.current().keys()], ['a.x', 'b.x']);
    source.delete('a.x');
    source.delete('not-there.x');
    assert.equal(calls, 3, 'deleting an unknown key is not a change');
    assert.deepEqual([...source.current().keys()], ['b.x']);
  });

  test('the stored endpoints are copies, frozen', () => {
    const source = new StaticDiscoverySource();
    const mine = [healthy('10.0.0.1:80')];
    source.set('catalog.default', mine);
    mine[0]!.weight = 99;
    mine.push(healthy('10.0.0.9:80'));
    const stored = source.current().get('catalog.default')!;
    assert.deepEqual(stored, [healthy('10.0.0.1:80')]);
    assert.ok(Object.isFrozen(stored) && Object.isFrozen(stored[0]));
  });

  test('unsubscribing stops notifications; a throwing listener does not silence the others', () => {
    const source = new StaticDiscoverySource();
    let calls = 0;
    source.subscribe(() => {
      throw new Error('boom');
    });
    const stop = source.subscribe(() => calls++);
    source.set('a.b', []);
    stop();
    source.set('a.b', []);
    assert.equal(calls, 1);
  });

  test('invalid keys and endpoints are refused at set, and nothing changes', () => {
    const source = new StaticDiscoverySource([['a.b', [healthy('10.0.0.1:80')]]]);
    assert.throws(() => source.set('catalog', []), /name\.namespace/);
    assert.throws(() => source.set('a.b', [healthy('10.0.0.1')]), /HOST:PORT/);
    assert.throws(() => source.set('a.b', [healthy('10.0.0.1:0')]), /port/);
    assert.throws(() => source.set('a.b', [healthy('10.0.0.1:80', 0)]), /weight/);
    assert.throws(() => source.set('a.b', [{ address: '10.0.0.1:80', weight: 1, state: 'dead' as 'healthy' }]), /state/);
    assert.deepEqual(source.current().get('a.b'), [healthy('10.0.0.1:80')]);
  });
});

describe('discovery input checks', () => {
  test('service keys are two DNS labels', () => {
    assert.ok(isServiceKey('catalog.shop'));
    for (const bad of ['catalog', 'a.b.c', 'Catalog.shop', '-a.b', 'a_b.c', '.b', 'a.']) assert.equal(isServiceKey(bad), false, bad);
  });

  test('addresses, weights and states are checked as ServiceEndpoints checks them', () => {
    assert.equal(discoveredEndpointProblem(healthy('[::1]:8080', 128)), undefined);
    assert.equal(discoveredEndpointProblem({ ...healthy('host-1.svc:8080', 0.5), state: 'suspect' }), undefined);
    assert.match(discoveredEndpointProblem(healthy('10.0.0.1:65536')) ?? '', /port/);
    assert.match(discoveredEndpointProblem(healthy('http://x:80')) ?? '', /HOST:PORT/);
    assert.match(discoveredEndpointProblem(healthy('10.0.0.1:80', 129)) ?? '', /weight/);
    assert.match(discoveredEndpointProblem(healthy('10.0.0.1:80', Number.NaN)) ?? '', /weight/);
  });
});
