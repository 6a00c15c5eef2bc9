import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SIDECAR_NODE_FLAGS } from '../../cli/node-flags.ts';
import { catalogConfig, frontendConfig } from './mesh-config.ts';
import { ProcessGroup, waitForOk } from './processes.ts';
import { emptyStats, generateTraffic, percentile, type TickStats } from './traffic.ts';

const HELP = `npm start [-- --duration SECONDS] [--rate N] [--base-port PORT] [--exit]

Runs a small mesh on this machine: a frontend and two catalog replicas, each a plain
Node service behind its own Outrigger sidecar, configured from YAML. A bounded traffic
generator calls the frontend, which calls catalog through its sidecar.

  --duration S    seconds of generated traffic (default 20, at most 600)
  --rate N        requests per second (default 20, at most 500)
  --base-port P   first of the ports the demo uses (default 18000; it uses P..P+299)
  --exit          stop the mesh when the traffic ends instead of waiting for Ctrl-C`;

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '20' }, rate: { type: 'string', default: '20' }, 'base-port': { type: 'string', default: '18000' }, exit: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const durationS = Math.min(600, Math.max(1, Number(values.duration)));
const rate = Math.min(500, Math.max(1, Number(values.rate)));
const base = Number(values['base-port']);
if (!Number.isInteger(base) || base < 1024 || base > 65000) {
  console.error('--base-port must be a whole number between 1024 and 65000');
  process.exit(2);
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'cli/outrigger.ts');
const APP = join(ROOT, 'examples/local/apps/demo-app.ts');
const STATE = join(ROOT, '.outrigger/demo');

const layout = {
  frontend: { app: base + 80, inbound: base + 1, outbound: base + 101, admin: base + 201 },
  catalog: [1, 2].map((i) => ({ name: `catalog-${i}`, app: base + 80 + i, inbound: base + 1 + i, outbound: base + 101 + i, admin: base + 201 + i })),
};

async function assertFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', () => reject(new Error(`port ${port} is busy. Stop what uses it, or move the demo: npm start -- --base-port 20000`)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

function writeFolder(dir: string, files: Record<string, string>): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const group = new ProcessGroup();
const recent: string[] = [];
const remember = (name: string) => (line: string) => {
  recent.push(`[${name}] ${line}`);
  if (recent.length > 40) recent.shift();
};
let stopping = false;

async function shutdown(code: number): Promise<never> {
  stopping = true;
  const pids = group.pids;
  await group.stopAll();
  console.log(`\nStopped ${pids.length} processes (PIDs ${pids.join(', ')}). Nothing is left running.`);
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

async function main(): Promise<void> {
  const all = [layout.frontend, ...layout.catalog].flatMap((p) => [p.app, p.inbound, p.outbound, p.admin]);
  for (const port of all) await assertFree(port);

  const frontendDir = writeFolder(join(STATE, 'frontend'), frontendConfig(layout.catalog.map((c) => c.inbound)));
  const catalogDir = writeFolder(join(STATE, 'catalog'), catalogConfig());

  console.log('Starting the Outrigger demo mesh…');
  const sidecarArgs = (service: string, p: { app: number; inbound: number; outbound: number; admin: number }, config: string) => [
    ...SIDECAR_NODE_FLAGS, CLI, 'sidecar', '--service', service, '--app', `127.0.0.1:${p.app}`, '--inbound', String(p.inbound), '--inbound-host', '127.0.0.1', '--outbound', String(p.outbound), '--admin', String(p.admin), '--config', config, '--drain-seconds', '0',
  ];
  for (const c of layout.catalog) {
    group.start(c.name, [APP, '--role', 'catalog', '--name', c.name, '--port', String(c.app)], remember(c.name));
    group.start(`${c.name} sidecar`, sidecarArgs('catalog', c, catalogDir), remember(`${c.name} sidecar`));
  }
  group.start('frontend', [APP, '--role', 'frontend', '--name', 'frontend', '--port', String(layout.frontend.app), '--outbound', String(layout.frontend.outbound)], remember('frontend'));
  group.start('frontend sidecar', sidecarArgs('frontend', layout.frontend, frontendDir), remember('frontend sidecar'));

  const started = Date.now();
  for (const p of [layout.frontend, ...layout.catalog]) await waitForOk(`http://127.0.0.1:${p.admin}/ready`, 15_000, () => recent.join('\n'));
  console.log(`All 3 sidecars ready in ${Date.now() - started} ms.\n`);

  const f = layout.frontend;
  console.log(`  frontend      app 127.0.0.1:${f.app}   sidecar inbound :${f.inbound}  outbound :${f.outbound}  admin :${f.admin}`);
  for (const c of layout.catalog) console.log(`  ${c.name.padEnd(12)}  app 127.0.0.1:${c.app}   sidecar inbound :${c.inbound}  admin :${c.admin}`);
  console.log(`\n  config (hot-reloaded): ${frontendDir}`);
  console.log(`  try:   curl -s http://127.0.0.1:${f.inbound}/               (frontend, through its sidecar)`);
  console.log(`         curl -s -H 'Host: catalog' http://127.0.0.1:${f.outbound}/items   (what the frontend app does)`);
  console.log(`         curl -s http://127.0.0.1:${f.admin}/clusters          (what the frontend's sidecar sees)\n`);
  console.log(`Sending ${rate} requests/s to the frontend for ${durationS} s:\n`);
  console.log('  time    sent   ok  failed    p50 ms   p99 ms   served by');

  let tick = emptyStats();
  const total = emptyStats();
  let second = 0;
  const printer = setInterval(() => {
    second++;
    print(second, tick);
    merge(total, tick);
    tick = emptyStats();
  }, 1000);
  await generateTraffic(f.inbound, rate, durationS * 1000, () => tick, () => stopping);
  clearInterval(printer);
  merge(total, tick);
  console.log(`\nTotal: ${total.sent} requests, ${total.ok} ok (${((100 * total.ok) / Math.max(1, total.sent)).toFixed(2)} %), p50 ${percentile(total.latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(total.latenciesMs, 99).toFixed(1)} ms; ${[...total.byReplica].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (total.failures.size > 0) console.log(`Failures: ${[...total.failures].map(([k, v]) => `${k} ×${v}`).join(', ')}`);
  if (values.exit) await shutdown(total.ok === total.sent ? 0 : 1);
  console.log('\nThe mesh keeps running for you to explore. Press Ctrl-C to stop it.');
}

function print(second: number, s: TickStats): void {
  const by = [...s.byReplica].sort().map(([k, v]) => `${k} ${v}`).join(', ');
  const failed = s.failed > 0 ? `  (${[...s.failures].map(([k, v]) => `${k} ×${v}`).join(', ')})` : '';
  console.log(`  ${String(second).padStart(3)} s  ${String(s.sent).padStart(5)} ${String(s.ok).padStart(4)} ${String(s.failed).padStart(7)}  ${percentile(s.latenciesMs, 50).toFixed(1).padStart(8)} ${percentile(s.latenciesMs, 99).toFixed(1).padStart(8)}   ${by}${failed}`);
}

function merge(into: TickStats, from: TickStats): void {
  into.sent += from.sent;
  into.ok += from.ok;
  into.failed += from.failed;
  into.latenciesMs.push(...from.latenciesMs);
  for (const [k, v] of from.byReplica) into.byReplica.set(k, (into.byReplica.get(k) ?? 0) + v);
  for (const [k, v] of from.failures) into.failures.set(k, (into.failures.get(k) ?? 0) + v);
}

main().catch(async (error: unknown) => {
  console.error(`\nThe demo could not run: ${(error as Error).message}`);
  await shutdown(1);
});
