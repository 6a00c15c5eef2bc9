import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { circuitState, ejectedAddresses, storeUpstreamHealth, upstreamHealth, type HealthSource } from './upstream-health.ts';

function fake(key: string, circuit: string | undefined, ejected: string[], addresses: string[] = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80'], detector = true): HealthSource {
  const endpoints = addresses.map((address) => ({ address }));
  return {
    key,
    endpoints,
    breaker: circuit === undefined ? undefined : { state: () => ({ state: circuit }) },
    detector: detector ? { state: (e: { address: string }) => ({ ejected: ejected.includes(e.address) }) } : undefined,
  } as unknown as HealthSource;
}

describe('upstream health', () => {
  it('reads circuit and ejections as /clusters does', () => {
    assert.equal(circuitState(fake('a.ns', undefined, [])), 'off');
    assert.equal(circuitState(fake('a.ns', 'half-open', [])), 'half-open');
    assert.deepEqual(ejectedAddresses(fake('a.ns', 'closed', ['10.0.0.3:80', '10.0.0.1:80'])), ['10.0.0.1:80', '10.0.0.3:80']);
    assert.deepEqual(ejectedAddresses(fake('a.ns', 'closed', ['10.0.0.1:80'], undefined, false)), []);
  });

  it('lists only Services with something to say, sorted', () => {
    const services = [fake('z.ns', 'open', []), fake('b.ns', 'closed', []), fake('c.ns', undefined, []), fake('a.ns', undefined, ['10.0.0.2:80', '10.0.0.1:80'])];
    assert.deepEqual(upstreamHealth(services), [
      { service: 'a.ns', ejected: ['10.0.0.1:80', '10.0.0.2:80'], circuit: 'off' },
      { service: 'z.ns', ejected: [], circuit: 'open' },
    ]);
  });

  it('is empty before the store has loaded a config', () => {
    assert.deepEqual(
      storeUpstreamHealth({
        loaded: false,
        get current(): never {
          throw new Error('config not loaded yet');
        },
      }),
      [],
    );
  });
});
