/**
 * Memory soak (`npm run bench:soak -- --seconds 120`): one sidecar under mixed good and hostile traffic for a
 * bounded time (test/support/soak.ts), its resident and heap memory sampled every second. Writes a Markdown section
 * to stdout and into bench/RESULTS.md between the soak markers.
 */
import { cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { runSoak, soakApp, type MemorySample } from '../test/support/soak.ts';
import { endpointsYaml, startSidecarProcess, writeConfig } from '../test/support/sidecar-process.ts';
import { startUpstream } from '../test/support/upstream.ts';
import { writeResultsSection } from './results-file.ts';

const RESULTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');
const MiB = 1024 * 1024;

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '120' }, 'no-write': { type: 'boolean', default: false } } });
const seconds = Math.max(10, Math.min(3_600, Number(values.seconds)));

const app = await startUpstream(soakApp, 'app');
const sidecar = await startSidecarProcess({ service: 'app', app: app.address, config: writeConfig({ 'endpoints.yaml': endpointsYaml('app', [app.address]) }) });
let result;
try {
  process.stderr.write(`soaking for ${seconds} s…\n`);
  result = await runSoak(sidecar, seconds * 1_000);
} finally {
  await sidecar.stop();
  await app.close();
}

const mib = (bytes: number): string => (bytes / MiB).toFixed(1);
const at = (fraction: number): MemorySample => result.samples[Math.min(result.samples.length - 1, Math.round(fraction * (result.samples.length - 1)))] as MemorySample;
const checkpoints = [0, 0.1, 0.25, 0.5, 0.75, 1].map(at);
const secondHalf = result.samples.filter((s) => s.atMs >= (seconds * 1_000) / 2);
const section = `## Memory soak (\`npm run bench:soak -- --seconds ${seconds}\`)

One sidecar (${process.version}, ${cpus().length} cores) under ${seconds} s of mixed traffic from test/support/soak.ts: keep-alive GETs
in and out, 16 KiB POSTs, malformed requests as raw bytes on both listeners, and clients leaving mid-head,
mid-body and mid-response. Run ${new Date().toISOString().slice(0, 10)}.

- Good requests: ${result.good.ok} of ${result.good.sent} succeeded.
- Hostile requests: ${result.hostile.refused} of ${result.hostile.sent} refused; abandoned connections: ${result.abandoned}.

| t (s) | RSS (MiB) | heap used (MiB) |
| ---: | ---: | ---: |
${checkpoints.map((s) => `| ${(s.atMs / 1000).toFixed(0)} | ${mib(s.rssBytes)} | ${mib(s.heapUsedBytes)} |`).join('\n')}

Second half: RSS ${mib(Math.min(...secondHalf.map((s) => s.rssBytes)))}–${mib(Math.max(...secondHalf.map((s) => s.rssBytes)))} MiB, heap used ${mib(Math.min(...secondHalf.map((s) => s.heapUsedBytes)))}–${mib(Math.max(...secondHalf.map((s) => s.heapUsedBytes)))} MiB.`;

process.stdout.write(`${section}\n`);
if (!values['no-write']) writeResultsSection(RESULTS, 'soak-bench', section);
