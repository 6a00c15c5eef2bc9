import { FLAKY_FAIL_RATE, type Layout } from './layout.ts';

/** Whether a Jaeger UI answers on its default local port (examples/jaeger/README.md starts one). */
export async function jaegerRunning(): Promise<boolean> {
  try {
    await fetch('http://127.0.0.1:16686/', { signal: AbortSignal.timeout(500) });
    return true;
  } catch {
    return false;
  }
}

/** What runs where and how to poke at it. */
export function banner(layout: Layout, policies: string, state: string, tracing: boolean): string[] {
  const cp = layout.controlPlane;
  const frontend = layout.frontend;
  const lines = [
    `  control plane   dashboard (API root) http://127.0.0.1:${cp.api}/   members http://127.0.0.1:${cp.api}/members   gossip :${cp.gossip}`,
    '',
    '  member       app     sidecar inbound  outbound  admin   gossip',
  ];
  for (const m of layout.members) {
    const note = m === layout.flaky ? `   (flaky: ${Math.round(FLAKY_FAIL_RATE * 100)} % of requests answer 503)` : '';
    lines.push(`  ${m.name.padEnd(11)}  :${m.app}  :${m.inbound}           :${m.outbound}    :${m.admin}  :${m.gossip}${note}`);
  }
  lines.push(
      '',
      `  policies (edit them live; the control plane signs each change and gossips it): ${policies}`,
      `  keys and state: ${state}`,
      '',
      '  try:',
      `    curl -s http://127.0.0.1:${frontend.inbound}/                               # the shop, through the frontend's sidecar`,
      `    curl -s -H 'Host: catalog' http://127.0.0.1:${frontend.outbound}/items           # what the frontend app does`,
      `    curl -s http://127.0.0.1:${frontend.admin}/clusters                       # retries, ejections, endpoints as the frontend's sidecar sees them`,
      `    npx node cli/outrigger.js status --url http://127.0.0.1:${cp.api}   # every member and its config version`,
      tracing
        ? '    Jaeger: http://127.0.0.1:16686 (tracing on: pick the service "frontend")'
        : '    Jaeger: none on 127.0.0.1:16686; start one (examples/jaeger/README.md) and rerun npm start to see traces',
  );
  return lines;
}
