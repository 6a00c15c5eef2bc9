/**
 * V8 flags the sidecar runs with (also in `cli/outrigger.ts`'s shebang, for `npx outrigger`, and the Dockerfile).
 * - A smaller young generation than Node 24's default keeps peak RSS under load about a third lower.
 * - An explicit old-generation limit: without one V8 sizes it from the machine's memory (gigabytes) and lets
 *   promoted garbage pile up before a full collection. Any limit from 64 to 512 MB changes that: under wrk at 50
 *   connections peak RSS fell from 223–236 MB to 141–157 MB, with no throughput change beyond run-to-run noise
 *   (paired 5 s runs). 512 MB leaves room for large configs; the overload guard sheds at 90 % of it.
 * `npm run bench -- --sidecar-node-flags ""` compares without them.
 */
export const SIDECAR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--max-old-space-size=512'];
