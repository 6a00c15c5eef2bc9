/**
 * Bundles the CLI into `dist/`: what `bin`, the container image, the demo, the benchmark and the end-to-end tests
 * run. Node's module loader pays per file (resolve, read, compile-cache lookup, link), and a sidecar loads about 470
 * of them from source; from 13 files of the bundle it reaches ready 170–220 ms sooner (see bench/README.md,
 * "Start-up and memory"). Each command stays a chunk of its own, loaded on demand, so a sidecar still loads no
 * control-plane code.
 *
 *   node cli/bundle.ts [OUTDIR]     (`npm run build`; default dist/)
 */
import { build } from 'esbuild';
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIST_CLI } from './dist.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIST = path.dirname(DIST_CLI);

/**
 * Packages written in CommonJS call `require` for Node built-ins and optional peers; esbuild's ESM output forwards
 * those calls to a `require` in scope, which ES modules do not have.
 */
const REQUIRE_SHIM = "import { createRequire as __outriggerCreateRequire } from 'node:module'; const require = __outriggerCreateRequire(import.meta.url);";

export async function bundle(outdir: string = DIST): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: ROOT,
    // The same plain-JavaScript entry as the sources', shebang and compile cache included.
    entryPoints: { [path.basename(DIST_CLI, '.js')]: 'cli/outrigger.js' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    sourcemap: 'linked',
    banner: { js: REQUIRE_SHIM },
    logLevel: 'error',
  });
  cpSync(path.join(ROOT, 'control-plane/dashboard/static'), path.join(outdir, 'static'), { recursive: true });
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await bundle(process.argv[2] === undefined ? DIST : path.resolve(process.argv[2]));
}
