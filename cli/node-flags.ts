/**
 * V8 flags the sidecar runs with (also in `cli/outrigger.js`'s shebang, for `npx outrigger`, and the Dockerfile).
 * - A young generation of 2 × 16 MB semi-spaces, an eighth of the 128 MB of new space Node 24 sizes from this
 *   machine's memory (the undici pass-through, on V8's defaults, peaks at 222–282 MiB in `npm run bench`).
 *   8 MB semi-spaces saved another 10–20 MB of peak RSS but scavenged twice as often and promoted short-lived
 *   request objects into the old generation: paired c50 runs (sidecar pinned to its own core, 3 rounds, medians)
 *   measured 107 → 92 µs of CPU per request with 100 B responses and 194 → 107 µs with 16 KiB ones when going from
 *   8 to 16 MB (see bench/README.md).
 * - An explicit old-generation limit: without one V8 sizes it from the machine's memory (gigabytes) and lets
 *   promoted garbage pile up before a full collection. With it, `npm run bench` showed the sidecar's peak RSS at
 *   151–165 MiB across shapes (200–265 MiB before); any limit from 64 to 512 MB gave the same. 512 MB leaves room
 *   for large configs; the overload guard sheds at 90 % of it.
 * `npm run bench -- --sidecar-node-flags "--max-semi-space-size=8"` compares other values.
 */
export const SIDECAR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16', '--max-old-space-size=512'];
