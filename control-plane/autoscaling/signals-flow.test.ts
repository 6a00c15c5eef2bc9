import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { SystemClock } from '../../gossip/clock.ts';
import { Memberlist } from '../../gossip/memberlist.ts';
import { UdpTcpTransport } from '../../gossip/udp-tcp-transport.ts';
import { encodeMemberMeta } from '../../mesh/member-meta.ts';
import { SignalCollector } from '../../mesh/signals-collector.ts';
import { SignalReporter } from '../../mesh/signals-reporter.ts';
// Test only: the control plane's code never imports the sidecar; this test joins both ends of the flow.
import { createSignalRecorder } from '../../sidecar/observability/signals/index.ts';
import { createAutoscalingRoutes } from './routes.ts';
import { policyOf, serveRoutes } from './test-fixtures.ts';

/**
 * The whole path on loopback: a sidecar's recorder (fed synthetic traffic on a synthetic clock) → SignalReporter →
 * real gossip streams (UDP/TCP on 127.0.0.1) → SignalCollector on a control-plane member → the routes, read over a
 * real HTTP server, as the HPA, KEDA and an operator would.
 */

const fast = { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, pushPullIntervalMs: 1_000 };
const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

async function member(name: string, meta: Uint8Array): Promise<Memberlist> {
  const transport = await UdpTcpTransport.bind({ host: '127.0.0.1', port: 0 });
  const memberlist = new Memberlist({ name, transport, clock: new SystemClock(), config: fast, meta });
  memberlist.start();
  closers.push(() => memberlist.shutdown());
  return memberlist;
}

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function getJson(url: string): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await request(url);
  return { status: response.statusCode, body: await response.body.json() };
}

describe('autoscaling signals from a sidecar to the control plane over gossip', () => {
  let controlPlane: Memberlist;
  let sidecar: Memberlist;
  let collector: SignalCollector;
  let reporter: SignalReporter;
  let base: string;

  before(async () => {
    controlPlane = await member('cp-1', encodeMemberMeta({ role: 'control-plane', configVersion: 0, configHash: '' }));
    sidecar = await member('checkout-1', encodeMemberMeta({ role: 'sidecar', service: 'checkout.shop', configVersion: 0, configHash: '' }));
    assert.equal(await sidecar.join([controlPlane.localMember.addr]), 1);
    await until('both members alive in each other\'s view', () => controlPlane.member('checkout-1')?.status === 'alive' && sidecar.member('cp-1')?.status === 'alive');

    // 20 requests/s for a minute of synthetic time: request k runs [50k, 50k + 25) ms, every tenth one fails.
    const clock = { now: 0 };
    const recorder = createSignalRecorder({ now: () => clock.now });
    for (let k = 0; k < 1200; k++) {
      recorder.ring.start(50 * k);
      recorder.ring.end(50 * k + 25, 25, k % 10 === 0);
    }
    clock.now = 60_000;

    collector = new SignalCollector({ memberlist: controlPlane });
    closers.push(async () => collector.close());
    reporter = new SignalReporter({ memberlist: sidecar, service: 'checkout.shop', source: recorder, intervalMs: 200 });
    reporter.start();
    closers.push(async () => reporter.close());

    const policies = [
      policyOf('checkout', 'shop', {
        targetRef: { kind: 'Service', name: 'checkout' },
        metrics: [
          { name: 'requests_per_second', target: { averageValue: 5 } },
          { name: 'concurrency', target: { value: 0.25 } },
          { name: 'error_rate', window: 'panic', target: { value: 0.1 } },
        ],
      }),
    ];
    const served = await serveRoutes(createAutoscalingRoutes({ collector, policies: () => policies, now: () => Date.UTC(2026, 10, 27, 10, 0, 0) }));
    closers.push(served.close);
    base = served.url;
    await until('the first report, acknowledged', () => reporter.stats.sent >= 1 && collector.services().includes('checkout.shop'));
  });

  it('delivers reports without failures', () => {
    assert.ok(reporter.stats.sent >= 1);
    assert.equal(reporter.stats.failed, 0, reporter.stats.lastError);
    assert.ok(collector.stats.accepted >= 1);
    assert.equal(collector.stats.rejected, 0, collector.stats.lastError);
  });

  it('serves the external metrics API with the numbers the traffic had', async () => {
    const expected: Array<[metric: string, window: string, value: string, seconds: number]> = [
      ['outrigger_requests_per_second', 'stable', '20', 60],
      ['outrigger_requests_per_second', 'panic', '20', 6],
      ['outrigger_concurrency', 'stable', '500m', 60],
      ['outrigger_concurrency', 'panic', '500m', 6],
      ['outrigger_error_ratio', 'stable', '100m', 60],
    ];
    for (const [metric, window, value, seconds] of expected) {
      const selector = encodeURIComponent(`service=checkout,window=${window}`);
      const { status, body } = await getJson(`${base}/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/${metric}?labelSelector=${selector}`);
      assert.equal(status, 200, metric);
      assert.deepEqual(body, {
        kind: 'ExternalMetricValueList',
        apiVersion: 'external.metrics.k8s.io/v1beta1',
        metadata: {},
        items: [{ metricName: metric, metricLabels: { service: 'checkout' }, timestamp: '2026-11-27T10:00:00Z', window: seconds, value }],
      });
    }
    const { body } = await getJson(`${base}/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/outrigger_latency_p99_ms?labelSelector=service%3Dcheckout`);
    const p99 = Number((body.items[0].value as string).replace(/m$/, '')) / 1000;
    assert.ok(Math.abs(p99 - 25) / 25 < 0.05, `p99 ${p99}`);
  });

  it('serves the KEDA JSON and the HPA recommendation', async () => {
    const keda = await getJson(`${base}/autoscaling/keda/shop/checkout`);
    assert.equal(keda.status, 200);
    assert.deepEqual([keda.body.rps, keda.body.concurrency, keda.body.error_rate, keda.body.replicas, keda.body.window], [20, 0.5, 0.1, 1, 'stable']);
    const { body } = await getJson(`${base}/autoscaling/recommendations`);
    const [recommendation] = body.items;
    assert.equal(recommendation.currentReplicas, 1);
    // rps: 20 over 5 per replica → 4; concurrency 0.5 against 0.25 → 2; error rate on target → 1; the largest wins.
    assert.deepEqual(recommendation.metrics.map((m: { proposedReplicas: number }) => m.proposedReplicas), [4, 2, 1]);
    assert.equal(recommendation.recommendedReplicas, 4);
  });

  it('stops serving a Service once its sidecar leaves the mesh', async () => {
    reporter.close();
    await sidecar.leave(1_000);
    await until('the report to be dropped', () => collector.services().length === 0);
    const { status, body } = await getJson(`${base}/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/outrigger_requests_per_second?labelSelector=service%3Dcheckout`);
    assert.equal(status, 404);
    assert.equal(body.kind, 'Status');
    assert.equal((await getJson(`${base}/autoscaling/keda/shop/checkout`)).status, 404);
  });
});
