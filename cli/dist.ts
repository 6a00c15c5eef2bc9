import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The bundled CLI that `npm run build` (cli/bundle.ts) writes: what `bin`, the container image, the demo, the benchmark
 * and the end-to-end tests run. `cli/outrigger.js` runs the sources themselves, for development.
 */
export const DIST_CLI = fileURLToPath(new URL('../dist/outrigger.js', import.meta.url));

/** The bundled CLI's path, or an error saying how to build it. */
export function bundledCli(): string {
  if (!existsSync(DIST_CLI)) throw new Error(`${DIST_CLI} is missing: run \`npm run build\` (npm start, npm test and npm run bench build first)`);
  return DIST_CLI;
}
