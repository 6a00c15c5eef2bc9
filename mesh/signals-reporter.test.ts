import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MemberView } from '../gossip/member.ts';
import type { MemberStatus } from '../gossip/messages.ts';
import { encodeMemberMeta } from './member-meta.ts';
import { newLatencyCounts } from './signals-histogram.ts';
import { decodeSignalReport, SIGNALS_REQUEST, type SignalWindows } from './signals-report.ts';
import { SignalReporter, type ReporterMembership } from './signals-reporter.ts';

interface Sent {
  addr: string;
  kind: string;
  body: Uint8Array;
  timeoutMs: number | undefined;
  settle: (error?: Error) => void;
}

class FakeMembers implements ReporterMembership {
  readonly name = 'checkout-1';
  readonly sent: Sent[] = [];
  private readonly members: MemberView[] = [];

  add(name: string, addr: string, role: 'sidecar' | 'control-plane', status: MemberStatus = 'alive'): void {
    this.members.push({ name, addr, incarnation: 1, status, meta: encodeMemberMeta({ role, configVersion: 0, configHash: '' }), statusChangedAt: 0 });
  }

  allMembers(): MemberView[] {
    return this.members;
  }

  request(addr: string, kind: string, body: Uint8Array, timeoutMs?: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.sent.push({ addr, kind, body, timeoutMs, settle: (error) => (error ? reject(error) : resolve(new Uint8Array(0))) });
    });
  }
}

function windows(requests: number): SignalWindows {
  const latency = newLatencyCounts();
  latency[10] = requests;
  const w = { durationMs: 6000, requests, errors: 0, concurrency: 0.5, peakConcurrency: 1, latency };
  return { stable: { ...w, durationMs: 60_000 }, panic: w };
}

function setup(): { members: FakeMembers; reporter: SignalReporter } {
  const members = new FakeMembers();
  members.add('checkout-1', '127.0.0.1:1', 'control-plane'); // itself, were it ever listed as one: never sent to
  members.add('cp-a', '127.0.0.1:2', 'control-plane');
  members.add('cp-b', '127.0.0.1:3', 'control-plane');
  members.add('cp-dead', '127.0.0.1:4', 'control-plane', 'dead');
  members.add('cp-suspect', '127.0.0.1:5', 'control-plane', 'suspect');
  members.add('catalog-1', '127.0.0.1:6', 'sidecar');
  const reporter = new SignalReporter({ memberlist: members, service: 'checkout.shop', source: { snapshot: () => windows(7) }, intervalMs: 500, now: () => 1234 });
  return { members, reporter };
}

describe('SignalReporter', () => {
  it('sends one report per round to every alive control-plane member, and only to them', async () => {
    const { members, reporter } = setup();
    const round = reporter.tick();
    assert.deepEqual(members.sent.map((s) => s.addr), ['127.0.0.1:2', '127.0.0.1:3']);
    for (const sent of members.sent) {
      assert.equal(sent.kind, SIGNALS_REQUEST);
      assert.equal(sent.timeoutMs, 500);
      const report = decodeSignalReport(sent.body);
      assert.deepEqual([report.service, report.member, report.at, report.intervalMs, report.windows.panic.requests], ['checkout.shop', 'checkout-1', 1234, 500, 7]);
      sent.settle();
    }
    await round;
    assert.deepEqual([reporter.stats.sent, reporter.stats.failed, reporter.stats.rounds], [2, 0, 1]);
  });

  it('counts failures and never lets one reject or block the round', async () => {
    const { members, reporter } = setup();
    const round = reporter.tick();
    members.sent[0]!.settle(new Error('connect ECONNREFUSED'));
    members.sent[1]!.settle();
    await round;
    assert.deepEqual([reporter.stats.sent, reporter.stats.failed], [1, 1]);
    assert.match(reporter.stats.lastError ?? '', /cp-a: connect ECONNREFUSED/);
  });

  it('skips a control plane still busy with the previous report instead of queueing', async () => {
    const { members, reporter } = setup();
    void reporter.tick();
    members.sent[1]!.settle();
    await new Promise(setImmediate);
    const second = reporter.tick(); // cp-a has not answered yet
    assert.equal(reporter.stats.skipped, 1);
    assert.deepEqual(members.sent.slice(2).map((s) => s.addr), ['127.0.0.1:3']);
    members.sent[0]!.settle();
    members.sent[2]!.settle();
    await second;
    void reporter.tick();
    assert.deepEqual(members.sent.slice(3).map((s) => s.addr), ['127.0.0.1:2', '127.0.0.1:3']);
  });

  it('counts a snapshot or encoding failure as a failed round without throwing', async () => {
    const members = new FakeMembers();
    members.add('cp-a', '127.0.0.1:2', 'control-plane');
    const reporter = new SignalReporter({
      memberlist: members,
      service: 'not a service key',
      source: { snapshot: () => windows(1) },
    });
    await reporter.tick();
    const broken = new SignalReporter({ memberlist: members, service: 'checkout.shop', source: { snapshot: () => { throw new Error('boom'); } } });
    await broken.tick();
    assert.equal(members.sent.length, 0);
    assert.equal(reporter.stats.failed, 1);
    assert.match(broken.stats.lastError ?? '', /boom/);
  });

  it('refuses an interval a report could not carry', () => {
    for (const intervalMs of [0, 99, 60_001, 1.5]) {
      assert.throws(() => new SignalReporter({ memberlist: new FakeMembers(), service: 'checkout.shop', source: { snapshot: () => windows(1) }, intervalMs }), RangeError);
    }
  });

  it('reports on a timer once started, and not after close', async () => {
    const { members, reporter } = setup();
    reporter.start();
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    const rounds = reporter.stats.rounds;
    assert.ok(rounds >= 2 && rounds <= 4, `${rounds} rounds in 1.3 s at 500 ms`);
    reporter.close();
    for (const sent of members.sent) sent.settle();
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(reporter.stats.rounds, rounds);
    await reporter.tick();
    assert.equal(reporter.stats.rounds, rounds);
  });
});
