import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MembershipEvent, MemberView } from '../gossip/member.ts';
import type { RequestHandler } from '../gossip/memberlist.ts';
import { encodeMemberMeta } from './member-meta.ts';
import { aggregateUpstreamHealth } from './signals-aggregate.ts';
import { SignalCollector, type CollectorMembership } from './signals-collector.ts';
import { newLatencyCounts } from './signals-histogram.ts';
import { decodeSignalReport, encodeSignalReport, MAX_EJECTED, MAX_REPORT_BYTES, MAX_UPSTREAMS, SignalReportError, type SignalReport, type SignalWindows, type UpstreamHealth } from './signals-report.ts';
import { SignalReporter, type ReporterMembership } from './signals-reporter.ts';

function windows(): SignalWindows {
  const latency = newLatencyCounts();
  latency[10] = 4;
  const w = { durationMs: 6000, requests: 4, errors: 1, concurrency: 0.5, peakConcurrency: 1, latency };
  return { stable: { ...w, durationMs: 60_000 }, panic: w };
}

const base: SignalReport = { service: 'frontend.shop', member: 'frontend-1', at: 1_764_237_600_000, intervalMs: 2000, windows: windows() };
const upstreams: UpstreamHealth[] = [
  { service: 'catalog.shop', ejected: ['127.0.0.1:18023'], circuit: 'closed' },
  { service: 'reviews.shop', ejected: [], circuit: 'open' },
  { service: 'ratings.shop', ejected: ['10.0.0.2:80', '10.0.0.1:80'], circuit: 'off' },
];

const encoder = new TextEncoder();
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;
function wire(patch: (w: Loose) => void): Uint8Array {
  const value = JSON.parse(new TextDecoder().decode(encodeSignalReport({ ...base, upstreams }))) as Loose;
  patch(value);
  return encoder.encode(JSON.stringify(value));
}

describe('signal report upstreams', () => {
  it('round-trips, worst first, addresses sorted', () => {
    const decoded = decodeSignalReport(encodeSignalReport({ ...base, upstreams }));
    assert.deepEqual(decoded.upstreams, [
      { service: 'reviews.shop', ejected: [], circuit: 'open' },
      { service: 'ratings.shop', ejected: ['10.0.0.1:80', '10.0.0.2:80'], circuit: 'off' },
      { service: 'catalog.shop', ejected: ['127.0.0.1:18023'], circuit: 'closed' },
    ]);
    assert.deepEqual(decoded.windows, base.windows);
  });

  it('leaves the field out when there is nothing to say, and decodes reports without it', () => {
    const bytes = encodeSignalReport({ ...base, upstreams: [{ service: 'catalog.shop', ejected: [], circuit: 'closed' }, { service: 'x.shop', ejected: [], circuit: 'off' }] });
    assert.equal(new TextDecoder().decode(bytes).includes('upstreams'), false);
    assert.deepEqual(decodeSignalReport(bytes), base);
    assert.equal(Object.hasOwn(decodeSignalReport(encodeSignalReport(base)), 'upstreams'), false);
  });

  it('refuses malformed upstreams strictly', () => {
    const cases: Array<[(w: Loose) => void, RegExp]> = [
      [(w) => (w['upstreams'] = []), /upstreams must list 1 to 32/],
      [(w) => (w['upstreams'] = 'x'), /upstreams must list/],
      [(w) => (w['upstreams'][0]['extra'] = 1), /unknown field "extra"/],
      [(w) => delete w['upstreams'][0]['circuit'], /lacks "circuit"/],
      [(w) => (w['upstreams'][0]['circuit'] = 'ajar'), /circuit must be one of/],
      [(w) => (w['upstreams'][0]['service'] = 'Catalog'), /service must be "name.namespace"/],
      [(w) => (w['upstreams'][1]['service'] = w['upstreams'][0]['service']), /must not repeat/],
      [(w) => (w['upstreams'][1]['ejected'] = ['10.0.0.1 :80']), /"host:port"/],
      [(w) => (w['upstreams'][1]['ejected'] = ['10.0.0.1:80\u0001:1']), /"host:port"/],
      [(w) => (w['upstreams'][1]['ejected'] = ['10.0.0.1:80', '10.0.0.1:80']), /ejected must not repeat/],
      [(w) => (w['upstreams'][1]['ejected'] = Array.from({ length: MAX_EJECTED + 1 }, (_, i) => `10.0.0.${i}:80`)), /at most 16 addresses/],
      [(w) => (w['upstreams'][2] = { service: 'catalog.shop', ejected: [], circuit: 'closed' }), /nothing to say/],
      [(w) => (w['upstreams'] = Array.from({ length: MAX_UPSTREAMS + 1 }, (_, i) => ({ service: `s${i}.shop`, ejected: [], circuit: 'open' }))), /upstreams must list 1 to 32/],
    ];
    for (const [patch, message] of cases) assert.throws(() => decodeSignalReport(wire(patch)), (error: unknown) => error instanceof SignalReportError && message.test(error.message), String(message));
  });

  it('bounds what it sends: MAX_UPSTREAMS Services, MAX_EJECTED addresses, MAX_REPORT_BYTES in all, the worst kept', () => {
    const many: UpstreamHealth[] = Array.from({ length: 60 }, (_, i) => ({
      service: `${'s'.repeat(50)}${i}.${'n'.repeat(63)}`,
      ejected: Array.from({ length: 40 }, (_, j) => `[fd00:1234:5678:9abc:def0:1234:5678:${j.toString(16)}]:65535`),
      circuit: i === 59 ? 'open' : 'closed',
    }));
    const bytes = encodeSignalReport({ ...base, upstreams: many });
    assert.ok(bytes.length <= MAX_REPORT_BYTES, `${bytes.length} bytes`);
    const decoded = decodeSignalReport(bytes).upstreams ?? [];
    assert.ok(decoded.length > 0 && decoded.length <= MAX_UPSTREAMS);
    assert.equal(decoded[0]!.circuit, 'open', 'the open circuit is kept first');
    assert.ok(decoded.every((u) => u.ejected.length === MAX_EJECTED));
    const few = decodeSignalReport(encodeSignalReport({ ...base, upstreams: many.slice(0, 40).map((u) => ({ ...u, service: u.service.slice(48), ejected: ['10.0.0.1:80'] })) }));
    assert.equal(few.upstreams?.length, MAX_UPSTREAMS);
  });
});

describe('aggregateUpstreamHealth', () => {
  it('unions ejections over reporters, with who ejected them, and circuits by member', () => {
    const a: SignalReport = { ...base, upstreams: [{ service: 'catalog.shop', ejected: ['127.0.0.1:2', '127.0.0.1:1'], circuit: 'closed' }] };
    const b: SignalReport = { ...base, member: 'frontend-2', upstreams: [{ service: 'catalog.shop', ejected: ['127.0.0.1:1'], circuit: 'half-open' }, { service: 'auth.shop', ejected: [], circuit: 'open' }] };
    const c: SignalReport = { ...base, member: 'frontend-3' };
    assert.deepEqual(aggregateUpstreamHealth([b, a, c]), [
      { service: 'auth.shop', ejected: [], circuits: { 'frontend-2': 'open' } },
      {
        service: 'catalog.shop',
        ejected: [
          { address: '127.0.0.1:1', members: ['frontend-1', 'frontend-2'] },
          { address: '127.0.0.1:2', members: ['frontend-1'] },
        ],
        circuits: { 'frontend-1': 'closed', 'frontend-2': 'half-open' },
      },
    ]);
    assert.deepEqual(aggregateUpstreamHealth([c]), []);
  });
});

class CollectorMembers implements CollectorMembership {
  readonly handlers = new Map<string, RequestHandler>();
  readonly members = new Map<string, MemberView>();
  handle(kind: string, handler: RequestHandler): void {
    this.handlers.set(kind, handler);
  }
  member(name: string): MemberView | undefined {
    return this.members.get(name);
  }
  onEvent(_listener: (event: MembershipEvent) => void): () => void {
    return () => undefined;
  }
  add(name: string, service: string): void {
    this.members.set(name, { name, addr: '127.0.0.1:1', incarnation: 1, status: 'alive', meta: encodeMemberMeta({ role: 'sidecar', service, configVersion: 0, configHash: '' }), statusChangedAt: 0 });
  }
}

class ReporterMembers implements ReporterMembership {
  readonly name = 'frontend-1';
  readonly sent: Uint8Array[] = [];
  allMembers(): MemberView[] {
    return [{ name: 'cp', addr: '127.0.0.1:9', incarnation: 1, status: 'alive', meta: encodeMemberMeta({ role: 'control-plane', configVersion: 0, configHash: '' }), statusChangedAt: 0 }];
  }
  request(_addr: string, _kind: string, body: Uint8Array): Promise<Uint8Array> {
    this.sent.push(body);
    return Promise.resolve(new Uint8Array(0));
  }
}

describe('upstream health from reporter to collector', () => {
  it('sends what upstreamHealth reads, keeps the latest per member, and survives a throwing reader', async () => {
    const members = new ReporterMembers();
    let health: UpstreamHealth[] = [{ service: 'catalog.shop', ejected: ['127.0.0.1:18023'], circuit: 'closed' }];
    let fail = false;
    const reporter = new SignalReporter({
      memberlist: members,
      service: 'frontend.shop',
      source: { snapshot: windows },
      upstreamHealth: () => {
        if (fail) throw new Error('boom');
        return health;
      },
      now: () => 1000 + members.sent.length,
    });
    const collectorMembers = new CollectorMembers();
    collectorMembers.add('frontend-1', 'frontend.shop');
    const collector = new SignalCollector({ memberlist: collectorMembers, now: () => 0 });

    await reporter.tick();
    collector.receive(members.sent.at(-1)!);
    assert.deepEqual(collector.upstreamHealth(), [{ service: 'catalog.shop', ejected: [{ address: '127.0.0.1:18023', members: ['frontend-1'] }], circuits: { 'frontend-1': 'closed' } }]);

    health = [];
    await reporter.tick();
    collector.receive(members.sent.at(-1)!);
    assert.deepEqual(collector.upstreamHealth(), [], 'the latest report replaces the last');

    fail = true;
    await reporter.tick();
    assert.equal(members.sent.length, 3, 'a throwing reader costs the upstreams, not the report');
    assert.equal(decodeSignalReport(members.sent[2]!).upstreams, undefined);
    assert.match(reporter.stats.lastError ?? '', /cannot read upstream health: Error: boom/);
    reporter.close();
    collector.close();
  });
});
