import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBalancer } from '../balancers/balancer.ts';
import { makeEndpoints } from '../balancers/fixtures.ts';
import type { Endpoint } from '../endpoints/endpoint.ts';
import type { Outcome, RequestContext } from '../pipeline/context.ts';
import { pickEndpoint } from './pick-endpoint.ts';

/** Runs the layer once and returns the endpoint it chose (or the outcome when it chose none). */
async function pick(endpoints: Endpoint[], tried?: Endpoint[]): Promise<Endpoint | Outcome> {
  const layer = pickEndpoint(createBalancer({ type: 'LeastRequest' }, endpoints), endpoints, 'svc.default');
  const ctx = { triedEndpoints: tried ? new Set(tried) : undefined, endpoint: undefined, hashKey: undefined } as unknown as RequestContext;
  const outcome = await layer((c) => Promise.resolve({ status: 200, committed: true, chosen: c.endpoint } as unknown as Outcome))(ctx);
  return (outcome as unknown as { chosen?: Endpoint }).chosen ?? outcome;
}

test('a first attempt never goes to an ejected endpoint; with none healthy it is UH', async () => {
  const [a, b, c] = makeEndpoints([1, 1, 1]) as [Endpoint, Endpoint, Endpoint];
  b.healthy = false;
  c.healthy = false;
  for (let i = 0; i < 50; i++) assert.equal(await pick([a, b, c]), a);
  a.healthy = false;
  assert.equal(((await pick([a, b, c])) as Outcome).flag, 'UH');
});

test('a retry that has tried every healthy endpoint goes to an ejected one it has not tried', async () => {
  const [a, b, c] = makeEndpoints([1, 1, 1]) as [Endpoint, Endpoint, Endpoint];
  b.healthy = false;
  c.healthy = false;
  const seen = new Set<Endpoint | Outcome>();
  for (let i = 0; i < 50; i++) seen.add(await pick([a, b, c], [a]));
  assert.deepEqual(seen, new Set([b, c]), 'both untried ejected endpoints are used');
  for (let i = 0; i < 20; i++) assert.equal(await pick([a, b, c], [a, b]), c);
  assert.equal(await pick([a, b, c], [a, b, c]), a, 'everything tried: back to a healthy one');
});

test('a retry with an untried healthy endpoint prefers it over ejected ones', async () => {
  const [a, b, c] = makeEndpoints([1, 1, 1]) as [Endpoint, Endpoint, Endpoint];
  c.healthy = false;
  for (let i = 0; i < 50; i++) assert.equal(await pick([a, b, c], [a]), b);
});
