import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';

/**
 * undici's Pool, loaded on its own. The package entry also loads fetch, WebSocket, caches and mocks: measured here,
 * that is about 80 ms of start-up and 14 MB of resident memory a sidecar never uses. `undici-pool.test.ts` fails if
 * an undici upgrade moves the file.
 */
export const Pool = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
export type Pool = UndiciPool;
