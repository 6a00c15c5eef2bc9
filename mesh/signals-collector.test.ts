import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MembershipEvent, MemberView } from '../gossip/member.ts';
import type { MemberStatus } from '../gossip/messages.ts';
import type { RequestHandler } from '../gossip/memberlist.ts';
import { encodeMemberMeta } from './member-meta.ts';
import { aggregateSignals } from './signals-aggregate.ts';
import { SignalCollector, type CollectorMembership } from './signals-collector.ts';
import { latencyPercentile, nearestRank, newLatencyCounts, recordLatency } from './signals-histogram.ts';
import { encodeSignalReport, SIGNALS_REQUEST, type SignalReport, type WindowSignals } from './signals-report.ts';

class FakeMembers implements CollectorMembership {
  readonly handlers = new Map<string, RequestHandler>();
  readonly members = new Map<string, MemberView>();
  private readonly listeners = new Set<(event: MembershipEvent) => void>();

  handle(kind: string, handler: RequestHandler): void {
    this.handlers.set(kind, handler);
  }

  member(name: string): MemberView | undefined {
    return this.members.get(name);
  }

  onEvent(listener: (event: MembershipEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  add(name: string, role: 'sidecar' | 'control-plane', service?: string, status: MemberStatus = 'alive'): void {
    const meta = encodeMemberMeta({ role, service, configVersion: 0, configHash: '' });
    this.members.set(name, { name, addr: '127.0.0.1:1', incarnation: 1, status, meta, statusChangedAt: 0 });
  }

  setStatus(name: string, status: MemberStatus): void {
    const member = this.members.get(name)!;
    this.members.set(name, { ...member, status });
    if (status === 'dead' || status === 'left') for (const listener of this.listeners) listener({ type: 'leave', member: this.members.get(name)! });
  }

  /** Calls the registered handler as memberlist would, turning a throw into a rejected promise. */
  async call(body: Uint8Array): Promise<Uint8Array> {
    const handler = this.handlers.get(SIGNALS_REQUEST);
    assert.ok(handler);
    return Promise.resolve().then(() => handler('127.0.0.1:40000', body));
  }
}

function window(durationMs: number, requests: number, errors: number, concurrency: number, latencies: number[]): WindowSignals {
  const latency = newLatencyCounts();
  for (const ms of latencies) recordLatency(latency, ms);
  assert.equal(latencies.length, requests);
  return { durationMs, requests, errors, concurrency, peakConcurrency: Math.ceil(concurrency) + 1, latency };
}

function report(member: string, service: string, at: number, stable: WindowSignals, panic = stable): SignalReport {
  return { service, member, at, intervalMs: 2000, windows: { stable, panic: { ...panic, durationMs: Math.min(panic.durationMs, 6000) } } };
}

const uniform = (n: number, ms: number): number[] => Array.from({ length: n }, () => ms);

function setup(): { members: FakeMembers; collector: SignalCollector; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  const members = new FakeMembers();
  members.add('a', 'sidecar', 'checkout.shop');
  members.add('b', 'sidecar', 'checkout.shop');
  members.add('c', 'sidecar', 'catalog.shop');
  members.add('cp', 'control-plane');
  const collector = new SignalCollector({ memberlist: members, now: () => clock.now });
  return { members, collector, clock };
}

describe('SignalCollector', () => {
  it('sums a Service over its reporting members: rate, concurrency, error rate, merged percentiles, replicas', async () => {
    const { members, collector } = setup();
    const fastLatencies = uniform(600, 10);
    const slowLatencies = [...uniform(594, 20), ...uniform(6, 900)];
    await members.call(encodeSignalReport(report('a', 'checkout.shop', 1, window(60_000, 600, 6, 2.5, fastLatencies))));
    await members.call(encodeSignalReport(report('b', 'checkout.shop', 1, window(60_000, 600, 0, 1.5, slowLatencies))));
    await members.call(encodeSignalReport(report('c', 'catalog.shop', 1, window(60_000, 60, 60, 0.1, uniform(60, 5)))));
    assert.deepEqual(collector.services(), ['catalog.shop', 'checkout.shop']);
    const checkout = collector.aggregate('checkout.shop', 'stable')!;
    assert.equal(checkout.replicas, 2);
    assert.equal(checkout.requestsPerSecond, 20);
    assert.equal(checkout.concurrency, 4);
    assert.equal(checkout.errorRate, 6 / 1200);
    assert.equal(checkout.windowSeconds, 60);
    // Against a brute-force sort of all 1200 latencies (600 at 10 ms, 594 at 20 ms, 6 at 900 ms).
    const all = [...fastLatencies, ...slowLatencies].sort((x, y) => x - y);
    for (const [p, got] of [[50, checkout.latencyP50Ms], [90, checkout.latencyP90Ms], [99, checkout.latencyP99Ms]] as const) {
      const exact = all[nearestRank(p, all.length) - 1]!;
      assert.ok(Math.abs(got - exact) / exact < 0.05, `p${p}: ${got} vs ${exact}`);
    }
    // p99 of the merge is 20 ms; averaging the members' p99s (10 and 900) would say 455 ms.
    assert.ok(Math.abs(checkout.latencyP99Ms - 20) / 20 < 0.05);
    assert.equal(collector.aggregate('catalog.shop', 'stable')!.errorRate, 1);
    assert.equal(collector.aggregate('nothing.shop', 'stable'), undefined);
    assert.equal(collector.stats.accepted, 3);
  });

  it('divides each member by the time its window covers, so a new replica is not diluted', () => {
    const settled = report('a', 'checkout.shop', 1, window(60_000, 600, 0, 1, uniform(600, 1)));
    const fresh = report('b', 'checkout.shop', 1, window(10_000, 100, 0, 1, uniform(100, 1)));
    const signals = aggregateSignals('checkout.shop', 'stable', [settled, fresh]);
    assert.equal(signals.requestsPerSecond, 10 + 10);
  });

  it('reports zeros, not NaN, for a Service with members but no traffic', () => {
    const idle = aggregateSignals('checkout.shop', 'panic', [report('a', 'checkout.shop', 1, window(6000, 0, 0, 0, []))]);
    assert.deepEqual([idle.requestsPerSecond, idle.errorRate, idle.latencyP99Ms, idle.concurrency, idle.replicas], [0, 0, 0, 0, 1]);
    assert.equal(latencyPercentile(idle.latency, 99), undefined);
  });

  it('keeps only the latest report per member, ignoring one that arrives late', async () => {
    const { members, collector } = setup();
    await members.call(encodeSignalReport(report('a', 'checkout.shop', 2000, window(60_000, 120, 0, 1, uniform(120, 1)))));
    await members.call(encodeSignalReport(report('a', 'checkout.shop', 1000, window(60_000, 60, 0, 1, uniform(60, 1)))));
    assert.equal(collector.aggregate('checkout.shop', 'stable')!.requests, 120);
    assert.equal(collector.stats.outOfOrder, 1);
    await members.call(encodeSignalReport(report('a', 'checkout.shop', 4000, window(60_000, 180, 0, 1, uniform(180, 1)))));
    assert.equal(collector.aggregate('checkout.shop', 'stable')!.requests, 180);
    assert.equal(collector.aggregate('checkout.shop', 'stable')!.replicas, 1);
  });

  it('drops a report older than three of its intervals', async () => {
    const { members, collector, clock } = setup();
    await members.call(encodeSignalReport(report('a', 'checkout.shop', 1, window(60_000, 60, 0, 1, uniform(60, 1)))));
    clock.now += 6000;
    assert.equal(collector.aggregate('checkout.shop', 'stable')?.replicas, 1, 'exactly 3 intervals old still counts');
    clock.now += 1;
    assert.equal(collector.aggregate('checkout.shop', 'stable'), undefined);
    assert.deepEqual(collector.services(), []);
    assert.equal(collector.stats.expired, 1);
  });

  it('drops the reports of members that died or left', async () => {
    const { members, collector } = setup();
    await members.call(encodeSignalReport(report('a', 'checkout.shop', 1, window(60_000, 60, 0, 1, uniform(60, 1)))));
    await members.call(encodeSignalReport(report('b', 'checkout.shop', 1, window(60_000, 60, 0, 1, uniform(60, 1)))));
    assert.equal(collector.aggregate('checkout.shop', 'stable')!.replicas, 2);
    members.setStatus('a', 'suspect');
    assert.equal(collector.aggregate('checkout.shop', 'stable')!.replicas, 2, 'a suspect still counts');
    members.setStatus('a', 'dead');
    assert.equal(collector.aggregate('checkout.shop', 'stable')!.replicas, 1);
    // Gone from the table entirely (reaped) without an event: dropped on the next read.
    members.members.delete('b');
    assert.equal(collector.aggregate('checkout.shop', 'stable'), undefined);
  });

  it('refuses, counts and answers with an error: garbage, unknown members, non-sidecars, the wrong Service', async () => {
    const { members, collector } = setup();
    members.add('gone', 'sidecar', 'checkout.shop', 'left');
    const good = window(60_000, 1, 0, 1, [1]);
    const cases: Array<[Uint8Array, RegExp]> = [
      [new TextEncoder().encode('nonsense'), /not UTF-8 JSON/],
      [encodeSignalReport(report('stranger', 'checkout.shop', 1, good)), /stranger is not alive/],
      [encodeSignalReport(report('gone', 'checkout.shop', 1, good)), /gone is not alive/],
      [encodeSignalReport(report('cp', 'checkout.shop', 1, good)), /cp is not a sidecar/],
      [encodeSignalReport(report('c', 'checkout.shop', 1, good)), /c fronts catalog\.shop, not checkout\.shop/],
    ];
    for (const [body, message] of cases) await assert.rejects(members.call(body), message);
    assert.equal(collector.stats.rejected, cases.length);
    assert.equal(collector.stats.accepted, 0);
    assert.match(collector.stats.lastError ?? '', /fronts catalog/);
    assert.deepEqual(collector.services(), []);
  });

  it('stops listening to membership events when closed', async () => {
    const { members, collector } = setup();
    await members.call(encodeSignalReport(report('a', 'checkout.shop', 1, window(60_000, 1, 0, 1, [1]))));
    collector.close();
    assert.deepEqual(collector.services(), []);
    members.setStatus('a', 'left');
    assert.equal(collector.stats.expired, 0);
  });
});
