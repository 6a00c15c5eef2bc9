/**
 * V8 flags the sidecar runs with (also in `cli/outrigger.js`'s shebang, for `npx outrigger`, and the Dockerfile).
 * - A smaller young generation than Node 24's default keeps peak RSS under load about a third lower.
 * - An explicit old-generation limit: without one V8 sizes it from the machine's memory (gigabytes) and lets
 *   promoted garbage pile up before a full collection. With it, `npm run bench` showed the sidecar's peak RSS at
 *   151–165 MiB across shapes (200–265 MiB before); any limit from 64 to 512 MB gave the same. 512 MB leaves room
 *   for large configs; the overload guard sheds at 90 % of it.
 * `npm run bench -- --sidecar-node-flags "--max-semi-space-size=8"` compares without the limit.
 */
export const SIDECAR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--max-old-space-size=512'];
