/**
 * Writes Outrigger's CustomResourceDefinitions to `manifests/crds/` from the zod schemas in `policy/schema/`.
 *
 *   npx node policy/crd/generate.ts           write (and remove stale generated files)
 *   npx node policy/crd/generate.ts --check   exit 1 if the committed files differ from what would be written
 */
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GROUP, generateCrds } from './crds.ts';

export const CRD_DIR = fileURLToPath(new URL('../../manifests/crds/', import.meta.url));

export interface Drift {
  readonly file: string;
  readonly problem: 'missing' | 'differs' | 'stale';
}

/** What `--check` reports: generated files that are missing or differ, and generated-looking files no kind produces. */
export function crdDrift(dir: string = CRD_DIR): Drift[] {
  const drift: Drift[] = [];
  const generated = generateCrds();
  for (const { file, yaml } of generated) {
    let committed: string | undefined;
    try {
      committed = readFileSync(join(dir, file), 'utf8');
    } catch {
      committed = undefined;
    }
    if (committed === undefined) drift.push({ file, problem: 'missing' });
    else if (committed !== yaml) drift.push({ file, problem: 'differs' });
  }
  const expected = new Set(generated.map((g) => g.file));
  for (const file of generatedLooking(dir)) if (!expected.has(file)) drift.push({ file, problem: 'stale' });
  return drift;
}

function generatedLooking(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.startsWith(`${GROUP}_`) && f.endsWith('.yaml'));
  } catch {
    return [];
  }
}

function main(args: readonly string[]): number {
  if (args.includes('--help')) {
    console.log('usage: npx node policy/crd/generate.ts [--check]');
    return 0;
  }
  if (args.includes('--check')) {
    const drift = crdDrift();
    for (const d of drift) console.error(`manifests/crds/${d.file}: ${d.problem}`);
    if (drift.length > 0) console.error('run: npx node policy/crd/generate.ts');
    return drift.length === 0 ? 0 : 1;
  }
  mkdirSync(CRD_DIR, { recursive: true });
  const generated = generateCrds();
  const expected = new Set(generated.map((g) => g.file));
  for (const file of generatedLooking(CRD_DIR)) {
    if (!expected.has(file)) {
      rmSync(join(CRD_DIR, file));
      console.log(`removed manifests/crds/${file}`);
    }
  }
  for (const { file, yaml } of generated) {
    writeFileSync(join(CRD_DIR, file), yaml);
    console.log(`wrote manifests/crds/${file}`);
  }
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
