/** Command-line flags of `npm run bench` (`npx node bench/run.ts`). */
import { SIDECAR_NODE_FLAGS } from '../cli/node-flags.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BODIES, type BodyName } from './upstream.ts';

export interface Shape {
  /** e.g. `c10-100b` */
  name: string;
  connections: number;
  body: BodyName;
}

export const DEFAULT_SHAPES = ['c1-100b', 'c10-100b', 'c10-16k', 'c50-100b', 'c50-16k'];

export interface Flags {
  durationS: number;
  warmupS: number;
  /** Extra warm-up before a target's first measured run: a fresh Node process runs 2–3× slower until its JIT settles. */
  initialWarmupS: number;
  rounds: number;
  quick: boolean;
  only: string[] | undefined;
  shapes: Shape[];
  wrkThreads: number;
  readyStarts: number;
  sidecarNodeFlags: string[];
  sidecarConfigExtraFile: string | undefined;
  sidecarConfigExtra: string | undefined;
  out: string;
  json: string | undefined;
  help: boolean;
}

export const USAGE = `Usage: npm run bench -- [flags]     (= npx node bench/run.ts [flags])

  --duration S               measured seconds per run (default 5; wrk takes whole seconds)
  --warmup S                 warm-up seconds before each measured run (default 1; 0 = none)
  --initial-warmup S         warm-up seconds before each target's first run, at 50 connections
                             (default 5; 1 with --quick): a fresh Node proxy needs it to reach steady state
  --rounds N                 repeat the whole matrix N times, order rotated each round (default 1)
  --quick                    smoke check: 1 s runs, 1 s warm-ups
  --only a,b,...             targets: direct, sidecar, sidecar-x2, sidecar-policies, nginx,
                             nginx-x2, haproxy, http-proxy, reply-from, undici
  --shapes a,b,...           c<connections>-<100b|16k> (default ${DEFAULT_SHAPES.join(',')})
  --wrk-threads N            wrk threads (default 1, capped at the connection count)
  --ready-starts N           sidecar starts for time-to-ready (default 5)
  --sidecar-node-flags "..." node flags for sidecars (env OUTRIGGER_BENCH_SIDECAR_NODE_FLAGS;
                             default cli/node-flags.ts; "" for none)
  --sidecar-config-extra F   YAML appended to the sidecar config; enables the "policies on" row
  --out FILE                 Markdown report (default bench/RESULTS.md)
  --json FILE                also write raw measurements as JSON
`;

export function parseShape(name: string): Shape {
  const match = /^c(\d+)-(100b|16k)$/.exec(name);
  const connections = Number(match?.[1]);
  const body = match?.[2];
  if (match === null || body === undefined || !(body in BODIES) || connections < 1) {
    throw new Error(`bad shape "${name}": expected c<connections>-<100b|16k>, e.g. c10-100b`);
  }
  return { name, connections, body: body as BodyName };
}

function positive(value: string | undefined, fallback: number, flag: string, allowZero = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new Error(`${flag} must be a whole number ≥ ${allowZero ? 0 : 1}, got "${value}"`);
  return n;
}

const list = (value: string | undefined): string[] | undefined =>
  value
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Bad flags: printed as a message plus usage, without a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** `--sidecar-node-flags "--max-semi-space-size=64"`: the value starts with a dash, which parseArgs refuses unless joined with `=`. */
function joinDashValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const next = argv[i + 1];
    if (arg === '--sidecar-node-flags' && next !== undefined) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

export function parseFlags(argv: string[], repoRoot: string): Flags {
  try {
    return parseFlagsOrThrow(joinDashValues(argv), repoRoot);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function parseFlagsOrThrow(argv: string[], repoRoot: string): Flags {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'initial-warmup': { type: 'string' },
      rounds: { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      shapes: { type: 'string' },
      'wrk-threads': { type: 'string' },
      'ready-starts': { type: 'string' },
      'sidecar-node-flags': { type: 'string' },
      'sidecar-config-extra': { type: 'string' },
      out: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const quick = values.quick;
  const extraFile = values['sidecar-config-extra'];
  const nodeFlags = values['sidecar-node-flags'] ?? process.env['OUTRIGGER_BENCH_SIDECAR_NODE_FLAGS'] ?? SIDECAR_NODE_FLAGS.join(' ');
  return {
    durationS: positive(values.duration, quick ? 1 : 5, '--duration'),
    warmupS: positive(values.warmup, 1, '--warmup', true),
    initialWarmupS: positive(values['initial-warmup'], quick ? 1 : 5, '--initial-warmup', true),
    rounds: positive(values.rounds, 1, '--rounds'),
    quick,
    only: list(values.only),
    shapes: (list(values.shapes) ?? DEFAULT_SHAPES).map(parseShape),
    wrkThreads: positive(values['wrk-threads'], 1, '--wrk-threads'),
    readyStarts: positive(values['ready-starts'], 5, '--ready-starts', true),
    sidecarNodeFlags: nodeFlags.split(/\s+/).filter((s) => s !== ''),
    sidecarConfigExtraFile: extraFile,
    sidecarConfigExtra: extraFile === undefined ? undefined : readFileSync(extraFile, 'utf8'),
    out: path.resolve(values.out ?? path.join(repoRoot, 'bench/RESULTS.md')),
    json: values.json === undefined ? undefined : path.resolve(values.json),
    help: values.help,
  };
}
