import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { send } from './support/client.ts';
import { freePort, startPrometheus, type PromSample, type TestPrometheus } from './support/prometheus.ts';
import { endpointsYaml, startSidecarProcess, writeConfig, type SidecarProcess } from './support/sidecar-process.ts';
import { echo, startUpstream, type TestUpstream } from './support/upstream.ts';

/**
 * app → sidecar A (frontend, outbound) → sidecar B (catalog, inbound) → app B, scraped by a real Prometheus every
 * second; the numbers asked of Prometheus must be exactly the requests sent.
 */
describe('Prometheus scrapes the sidecars', () => {
  let app: TestUpstream;
  let catalog: SidecarProcess;
  let frontend: SidecarProcess;
  let prometheus: TestPrometheus;

  before(async () => {
    app = await startUpstream(echo, 'catalog-app');
    catalog = await startSidecarProcess({ service: 'catalog', app: app.address, config: writeConfig({ 'none.yaml': '' }) });
    const dead = await freePort(); // nothing listens there: connect refused, 502 UF
    frontend = await startSidecarProcess({
      service: 'frontend',
      app: '127.0.0.1:9',
      config: writeConfig({
        'catalog.yaml': endpointsYaml('catalog', [`127.0.0.1:${catalog.inboundPort}`]),
        'ghost.yaml': endpointsYaml('ghost', [`127.0.0.1:${dead}`]),
      }),
    });
    prometheus = await startPrometheus({ targets: [`127.0.0.1:${frontend.adminPort}`, `127.0.0.1:${catalog.adminPort}`], scrapeIntervalSeconds: 1 });
  });

  after(async () => {
    await prometheus?.stop();
    for (const s of [frontend, catalog]) await s?.stop();
    await app?.close();
  });

  const byCode = (samples: PromSample[]): Record<string, number> => Object.fromEntries(samples.map((s) => [s.metric.response_code ?? '', s.value]));

  test('request counts by code on both sides, and a p99 from the histogram', async (t) => {
    const a = `instance="127.0.0.1:${frontend.adminPort}"`;
    const b = `instance="127.0.0.1:${catalog.adminPort}"`;
    await prometheus.waitFor(`up{job="outrigger"} == 1`, (s) => s.length === 2);

    // Two phases with a scrape between them, so the counters grow across scrapes and rate() sees it.
    for (let i = 0; i < 20; i++) assert.equal((await send(frontend.outboundPort, { path: `/items/${i}`, headers: { host: 'catalog' } })).status, 200);
    await prometheus.waitFor(`sum by (response_code) (istio_requests_total{reporter="source",${a}})`, (s) => byCode(s)['200'] === 20);
    for (let i = 20; i < 40; i++) assert.equal((await send(frontend.outboundPort, { path: `/items/${i}`, headers: { host: 'catalog' } })).status, 200);
    for (let i = 0; i < 10; i++) {
      const res = await send(frontend.outboundPort, { headers: { host: 'ghost', 'x-outrigger-debug': '1' } });
      assert.equal(res.status, 502);
      assert.equal(res.headers['x-outrigger-reason'], 'UF');
    }

    const source = await prometheus.waitFor(`sum by (response_code) (istio_requests_total{reporter="source",${a}})`, (s) => byCode(s)['200'] === 40 && byCode(s)['502'] === 10);
    assert.deepEqual(byCode(source), { '200': 40, '502': 10 });

    const flags = await prometheus.query(`sum by (destination_service, response_flags) (istio_requests_total{reporter="source",${a}})`);
    assert.deepEqual(
      Object.fromEntries(flags.map((s) => [`${s.metric.destination_service} ${s.metric.response_flags}`, s.value])),
      { 'catalog.default -': 40, 'ghost.default UF': 10 },
    );

    const inbound = await prometheus.waitFor(`sum by (response_code, source_workload) (istio_requests_total{reporter="destination",${b}})`, (s) => s[0]?.value === 40);
    assert.deepEqual(inbound.map((s) => [s.metric.source_workload, s.metric.response_code, s.value]), [['frontend', '200', 40]]);

    const p99 = await prometheus.query(`histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="source",${a}}[1m])))`);
    assert.equal(p99.length, 1);
    assert.ok(Number.isFinite(p99[0]!.value) && p99[0]!.value > 0, `p99 = ${p99[0]!.value}`);
    const p50 = await prometheus.query(`histogram_quantile(0.5, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="source",${a}}[1m])))`);
    t.diagnostic(`from Prometheus: p50 ${p50[0]?.value.toFixed(2)} ms, p99 ${p99[0]!.value.toFixed(2)} ms (bucket interpolation)`);

    const durations = await prometheus.query(`sum(istio_request_duration_milliseconds_count{reporter="source",${a}})`);
    assert.equal(durations[0]?.value, 50);

    const config = await prometheus.query(`count by (instance) (outrigger_config_info == 1)`);
    assert.equal(config.length, 2);
    const inFlight = await prometheus.query(`sum(outrigger_requests_in_flight)`);
    assert.equal(inFlight[0]?.value, 0);
    const endpoints = await prometheus.query(`outrigger_endpoints{${a},service="ghost.default",health="healthy"}`);
    assert.equal(endpoints.length, 1);
  });

  test('/stats/prometheus serves the same text format as /metrics', async () => {
    const res = await send(frontend.adminPort, { path: '/stats/prometheus' });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(res.body, /^# TYPE istio_requests_total counter$/m);
    assert.match(res.body, /^process_resident_memory_bytes \d+/m);
  });
});
