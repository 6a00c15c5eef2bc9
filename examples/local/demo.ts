import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundledCli } from '../../cli/dist.ts';
import { banner, jaegerRunning } from './banner.ts';
import { writeDemoKeys } from './keys.ts';
import { demoLayout, PORT_SPAN } from './layout.ts';
import { awaitDiscovery, startControlPlane, startMembers, type MeshStart } from './mesh.ts';
import { describeChanges, readCatalogView, type CatalogView } from './observe.ts';
import { assertPortsFree, BusyPortError } from './ports.ts';
import { ProcessGroup } from './processes.ts';
import { merge, summary, TABLE_HEADER, tickLine } from './report.ts';
import { emptyStats, generateTraffic } from './traffic.ts';

const HELP = `npm start [-- --duration SECONDS] [--rate N] [--base-port PORT] [--exit]

Runs a small shop on this machine as a real mesh: a control plane and five plain Node
services (a frontend, three catalog replicas of which one is flaky, and pricing), each
behind its own Outrigger sidecar, joined by gossip and configured from the YAML in
examples/local/policies/. A bounded traffic generator calls the frontend, which calls
catalog and pricing through its sidecar; retries and outlier ejection hide the flaky replica.

  --duration S    seconds of generated traffic (default 20, at most 600)
  --rate N        requests per second (default 20, at most 500)
  --base-port P   first of the ports the demo uses (default 18000; it uses P..P+${PORT_SPAN - 1})
  --exit          stop the mesh when the traffic ends instead of waiting for Ctrl-C`;

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '20' }, rate: { type: 'string', default: '20' }, 'base-port': { type: 'string', default: '18000' }, exit: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const durationS = Math.min(600, Math.max(1, Number(values.duration) || 20));
const rate = Math.min(500, Math.max(1, Number(values.rate) || 20));
const base = Number(values['base-port']);
if (!Number.isInteger(base) || base < 1024 || base > 65535 - PORT_SPAN) {
  console.error(`--base-port must be a whole number between 1024 and ${65535 - PORT_SPAN}`);
  process.exit(2);
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const POLICIES = join(ROOT, 'examples/local/policies');
const STATE = join(ROOT, '.outrigger/demo');
const layout = demoLayout(base);
const frontend = layout.frontend;

const group = new ProcessGroup();
const recent: string[] = [];
const log = (name: string) => (line: string): void => {
  recent.push(`[${name}] ${line}`);
  if (recent.length > 60) recent.shift();
};
let stopping = false;

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const pids = group.pids;
  await group.stopAll();
  console.log(`\nStopped ${pids.length} processes${pids.length > 0 ? ` (PIDs ${pids.join(', ')})` : ''}. Nothing is left running.`);
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0));

async function main(): Promise<void> {
  await assertPortsFree(layout, base);
  const tracing = await jaegerRunning();
  const mesh: MeshStart = {
    group,
    layout,
    keys: writeDemoKeys(join(STATE, 'keys')),
    paths: { cli: bundledCli(), apps: join(ROOT, 'examples/local/apps'), policies: POLICIES },
    sidecarEnv: tracing ? process.env : { ...process.env, OTEL_SDK_DISABLED: 'true' },
    log,
    describe: () => recent.join('\n'),
  };
  console.log('Starting the Outrigger demo mesh: keys generated, starting the control plane…');
  const started = Date.now();
  await startControlPlane(mesh);
  console.log(`Control plane ready (snapshot signed) in ${Date.now() - started} ms; starting 5 services, each behind a sidecar…`);
  await startMembers(mesh);
  await awaitDiscovery(mesh);
  console.log(`Control plane and all ${layout.members.length} sidecars ready, joined by gossip, in ${Date.now() - started} ms.\n`);
  for (const line of banner(layout, POLICIES, STATE, tracing)) console.log(line);

  console.log(`\nSending ${rate} requests/s to the frontend for ${durationS} s (each calls catalog, then pricing):\n`);
  console.log(TABLE_HEADER);
  let tick = emptyStats();
  const total = emptyStats();
  let view: CatalogView | undefined = await readCatalogView(layout, frontend.admin);
  let second = 0;
  const printer = setInterval(() => {
    const done = tick;
    tick = emptyStats();
    second++;
    void readCatalogView(layout, frontend.admin).then((now) => {
      if (stopping) return;
      for (const line of now ? describeChanges(view, now) : []) console.log(line);
      console.log(tickLine(second, done, now, view?.retries ?? 0));
      merge(total, done);
      view = now ?? view;
    });
  }, 1000);
  await generateTraffic(frontend.inbound, rate, durationS * 1000, () => tick, () => stopping);
  clearInterval(printer);
  await new Promise((r) => setTimeout(r, 200));
  merge(total, tick);
  const last = (await readCatalogView(layout, frontend.admin)) ?? view;
  console.log('');
  for (const line of summary(total, last, layout.flaky.name)) console.log(line);
  if (values.exit) return shutdown(0);
  console.log('\nThe mesh keeps running for you to explore. Press Ctrl-C to stop it.');
  setInterval(() => {
    const gone = group.exited();
    if (gone) {
      console.error(`\n${gone}; stopping the demo.\n${recent.slice(-10).join('\n')}`);
      void shutdown(1);
    }
  }, 1000);
}

main().catch(async (error: unknown) => {
  console.error(error instanceof BusyPortError ? `\n${error.message}` : `\nThe demo could not run: ${(error as Error).message}`);
  await shutdown(1);
});
