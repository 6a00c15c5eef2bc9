import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { send } from './support/client.ts';
import { startControlPlaneProcess, startMeshSidecarProcess, writeMeshKeys, type ControlPlaneProcess } from './support/mesh-processes.ts';
import type { SidecarProcess } from './support/sidecar-process.ts';
import { echo, startUpstream, type TestUpstream } from './support/upstream.ts';

const CHROMIUM = '/usr/bin/chromium';
const chromiumMissing = ((): string | false => {
  try {
    statSync(CHROMIUM);
    return false;
  } catch {
    return `${CHROMIUM} is not installed (apt-get install chromium)`;
  }
})();

const SIGNAL = `apiVersion: outrigger.dev/v1alpha1
kind: AutoscalingSignal
metadata:
  name: catalog
  namespace: default
spec:
  targetRef:
    kind: Service
    name: catalog
  metrics:
    - name: requests_per_second
      window: stable
      target:
        averageValue: 50
`;

describe('the dashboard in a real browser, with a real mesh behind it', { skip: chromiumMissing }, () => {
  let controlPlane: ControlPlaneProcess;
  const sidecars: SidecarProcess[] = [];
  const apps: TestUpstream[] = [];
  let browser: Browser | undefined;

  before(async () => {
    const policies = mkdtempSync(join(tmpdir(), 'outrigger-dashboard-policy-'));
    writeFileSync(join(policies, 'catalog-autoscaling.yaml'), SIGNAL);
    const keys = writeMeshKeys();
    controlPlane = await startControlPlaneProcess({ config: policies, keys, name: 'cp' });
    for (const [i, service] of ['frontend', 'catalog', 'catalog'].entries()) {
      const app = await startUpstream(echo, `${service}-${i}`);
      apps.push(app);
      sidecars.push(await startMeshSidecarProcess({ service, app: app.address, keys, join: [controlPlane.gossipAddress], name: `${service}-${i}` }));
    }
  });

  after(async () => {
    await browser?.close();
    await Promise.all(sidecars.map((s) => s.stop()));
    await controlPlane?.stop();
    await Promise.all(apps.map((a) => a.close()));
  });

  it('shows the services, the frontend → catalog edge and synced members, offline, without console errors', async () => {
    const frontend = sidecars[0] as SidecarProcess;
    const deadline = Date.now() + 10_000;
    while ((await send(frontend.outboundPort, { headers: { host: 'catalog' } })).status !== 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // A short paced load: 20 requests/s for 4 s through the frontend's outbound listener.
    const rate = 20;
    const started = Date.now();
    let sent = 0;
    while (Date.now() - started < 4_000) {
      const due = Math.floor(((Date.now() - started) / 1000) * rate);
      const batch: Promise<unknown>[] = [];
      for (; sent < due; sent++) batch.push(send(frontend.outboundPort, { headers: { host: 'catalog' } }).then((r) => assert.equal(r.status, 200)));
      await Promise.all(batch);
      await new Promise((r) => setTimeout(r, 25));
    }

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const foreign: string[] = [];
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' || url.protocol === 'data:') return route.continue();
      foreign.push(url.href);
      return route.abort();
    });
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    const url = `http://127.0.0.1:${controlPlane.apiPort}/`;
    const loadStarted = Date.now();
    await page.goto(url, { waitUntil: 'load' });
    const loadMs = Date.now() - loadStarted;

    // Reports arrive every 2 s and the page polls every 2 s: give both a few rounds.
    const timeout = 15_000;
    await page.locator('#services tr[data-service="catalog.default"]').waitFor({ timeout });
    await page.locator('#services tr[data-service="frontend.default"]').waitFor({ timeout });
    await page.locator('#topology [data-edge="frontend.default->catalog.default"]').waitFor({ timeout });
    // Page-side expressions as strings: the tests are typechecked without the DOM library.
    await page.waitForFunction(
      `(() => { const rows = [...document.querySelectorAll('#members tr[data-member]')];
        return rows.length === 4 && rows.every((row) => row.dataset.sync === 'synced' && row.dataset.status === 'alive'); })()`,
      undefined,
      { timeout },
    );
    // Wait for the catalog's signals to show a rate (its replicas have reported traffic).
    await page.waitForFunction(
      `(() => { const cells = document.querySelectorAll('#services tr[data-service="catalog.default"] td');
        return cells.length === 8 && Number(cells[2].textContent) > 0; })()`,
      undefined,
      { timeout },
    );

    const catalogRow = (await page.locator('#services tr[data-service="catalog.default"]').innerText()).split('\t').map((c) => c.trim());
    assert.equal(catalogRow[1], '2/2', 'two catalog replicas reporting');
    assert.match(catalogRow[3] ?? '', /^100 %$/, 'every request succeeded');
    assert.match(catalogRow[5] ?? '', /ms$/, 'p95 latency shown');
    const edgeLabel = await page.locator('#topology [data-edge="frontend.default->catalog.default"] text').textContent();
    assert.match(edgeLabel ?? '', /\/s · 0 % err/);
    assert.equal(await page.locator('#status').textContent(), 'live');

    const dir = mkdtempSync(join(tmpdir(), 'outrigger-dashboard-'));
    const screenshot = join(dir, 'dashboard.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    const png = readFileSync(screenshot);
    assert.ok(png.length > 1000, `${png.length} bytes`);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG signature');
    console.log(`# dashboard screenshot: ${screenshot} (${png.length} bytes); page loaded in ${loadMs} ms; ${sent} requests sent; catalog row: ${catalogRow.join(' | ')}; edge: ${edgeLabel ?? ''}`);

    assert.deepEqual(foreign, [], 'the page asked for nothing outside 127.0.0.1');
    assert.deepEqual(consoleErrors, []);

    // The control plane going away shows as unreachable, the last data still on screen.
    await controlPlane.stop();
    await page.locator('#status', { hasText: 'unreachable' }).waitFor({ timeout: 6_000 });
    assert.equal(await page.locator('#banner').isVisible(), true);
    assert.equal(await page.locator('#services tr[data-service="catalog.default"]').count(), 1);
    await page.screenshot({ path: join(dir, 'dashboard-unreachable.png') });
  });
});

test('the dashboard of the running demo (`npm start`) shows the shop: frontend, catalog, pricing, and who calls whom', { skip: chromiumMissing }, async () => {
  const demoPath = fileURLToPath(new URL('../examples/local/demo.ts', import.meta.url));
  // Traffic for 30 s at most; the test stops it with SIGINT (Ctrl-C) as soon as it has seen the page.
  const demo = spawn(process.execPath, [demoPath, '--duration', '30', '--rate', '20', '--base-port', '21300', '--exit'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  demo.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  demo.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = once(demo, 'exit');
  let browser: Browser | undefined;
  try {
    const deadline = Date.now() + 60_000;
    while (!/^\s+3 s\s/m.test(out)) {
      if (Date.now() > deadline || demo.exitCode !== null) throw new Error(`the demo did not start traffic:\n${out}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto('http://127.0.0.1:21300/', { waitUntil: 'load' });
    const timeout = 15_000;
    for (const service of ['frontend.default', 'catalog.default', 'pricing.default']) await page.locator(`#services tr[data-service="${service}"]`).waitFor({ timeout });
    await page.locator('#topology [data-edge="frontend.default->catalog.default"]').waitFor({ timeout });
    await page.locator('#topology [data-edge="frontend.default->pricing.default"]').waitFor({ timeout });
    const catalogRow = await page.locator('#services tr[data-service="catalog.default"]').innerText();
    assert.match(catalogRow, /3\/3|2\/3/, 'the catalog replicas report');
    const screenshot = join(mkdtempSync(join(tmpdir(), 'outrigger-demo-dashboard-')), 'demo-dashboard.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    assert.ok(statSync(screenshot).size > 1000);
    console.log(`# demo dashboard screenshot: ${screenshot}`);
  } finally {
    await browser?.close();
    if (demo.exitCode === null) demo.kill('SIGINT');
    await exited;
  }
  assert.match(out, /Nothing is left running\./, out);
});
