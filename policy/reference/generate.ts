/**
 * Writes docs/policy-reference.md from the zod schemas.   npm run generate:reference   (--check: exit 1 if stale)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { policyReference } from './reference.ts';

const target = fileURLToPath(new URL('../../docs/policy-reference.md', import.meta.url));
const text = policyReference();
if (process.argv.includes('--check')) {
  const current = readFileSync(target, 'utf8');
  if (current !== text) {
    process.stderr.write('docs/policy-reference.md is stale: run npm run generate:reference\n');
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
  process.stderr.write(`wrote ${target}\n`);
}
