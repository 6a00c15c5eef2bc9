import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runSoak, soakApp } from './support/soak.ts';
import { endpointsYaml, startSidecarProcess, writeConfig, type SidecarProcess } from './support/sidecar-process.ts';
import { startUpstream, type TestUpstream } from './support/upstream.ts';

/**
 * A bounded memory soak: 24 s of good traffic (GETs, 16 KiB POSTs), malformed requests and clients that walk away
 * mid-head, mid-body and mid-response, in and out. The sidecar's resident memory must stay flat once warm: the second
 * half's peak within 10 MiB of the first half's (a leak per request or per connection grows with the traffic, so
 * the second half would keep climbing). `npm run bench:soak` runs it longer.
 */

const MiB = 1024 * 1024;

describe('memory under mixed good and hostile traffic', () => {
  let app: TestUpstream;
  let sidecar: SidecarProcess;

  before(async () => {
    app = await startUpstream(soakApp, 'app');
    const config = writeConfig({ 'endpoints.yaml': endpointsYaml('app', [app.address]) });
    sidecar = await startSidecarProcess({ service: 'app', app: app.address, config });
  });

  after(async () => {
    await sidecar?.stop();
    await app?.close();
  });

  test('RSS is flat after warm-up, every good request succeeds, every hostile one is refused', async (t) => {
    const result = await runSoak(sidecar, 24_000);
    const samples = result.samples;
    const half = samples.filter((s) => s.atMs < 12_000);
    const rest = samples.filter((s) => s.atMs >= 12_000);
    assert.ok(half.length > 5 && rest.length > 5, 'memory was sampled');
    const peak = (list: typeof samples): number => Math.max(...list.map((s) => s.rssBytes));
    const heap = (list: typeof samples): string => `${(Math.min(...list.map((s) => s.heapUsedBytes)) / MiB).toFixed(1)}–${(Math.max(...list.map((s) => s.heapUsedBytes)) / MiB).toFixed(1)}`;
    t.diagnostic(
      `good ${result.good.ok}/${result.good.sent}, hostile refused ${result.hostile.refused}/${result.hostile.sent}, abandoned ${result.abandoned}; ` +
        `RSS ${(samples[0]!.rssBytes / MiB).toFixed(1)} MiB at start, peak ${(peak(half) / MiB).toFixed(1)} MiB in 0–12 s, ${(peak(rest) / MiB).toFixed(1)} MiB in 12–24 s; ` +
        `heap used ${heap(half)} MiB, then ${heap(rest)} MiB`,
    );
    assert.ok(result.good.sent > 1_000, `good traffic ran (${result.good.sent})`);
    assert.equal(result.good.ok, result.good.sent, `good failures: ${JSON.stringify([...result.good.failures])}`);
    assert.ok(result.hostile.sent > 100, `hostile traffic ran (${result.hostile.sent})`);
    assert.equal(result.hostile.refused, result.hostile.sent, 'every hostile request refused');
    assert.ok(result.abandoned > 100, `abandoning clients ran (${result.abandoned})`);
    assert.ok(peak(rest) - peak(half) < 10 * MiB, `RSS peak grew ${((peak(rest) - peak(half)) / MiB).toFixed(1)} MiB from the first half to the second`);
    assert.equal(sidecar.child.exitCode, null, 'sidecar alive');
  });
});
