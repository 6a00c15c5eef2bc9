import { FLAKY_FAIL_RATE } from './layout.ts';
import type { CatalogView } from './observe.ts';
import { percentile, type TickStats } from './traffic.ts';

export const TABLE_HEADER = '  time    sent   ok  failed    p50 ms   p99 ms  retries  ejected      served by';

/** One line of the live table: this second's traffic and the retries/ejections the frontend's sidecar reports. */
export function tickLine(second: number, s: TickStats, view: CatalogView | undefined, retriesBefore: number): string {
  const by = [...s.byReplica].sort().map(([k, v]) => `${k} ${v}`).join(', ');
  const failed = s.failed > 0 ? `  (${[...s.failures].map(([k, v]) => `${k} ×${v}`).join(', ')})` : '';
  const retries = view ? `+${view.retries - retriesBefore}` : '?';
  const ejected = view ? view.ejected.map((e) => e.name).join(',') || '-' : '?';
  return `  ${String(second).padStart(3)} s  ${String(s.sent).padStart(5)} ${String(s.ok).padStart(4)} ${String(s.failed).padStart(7)}  ${percentile(s.latenciesMs, 50).toFixed(1).padStart(8)} ${percentile(s.latenciesMs, 99).toFixed(1).padStart(8)}  ${retries.padStart(7)}  ${ejected.padEnd(11)}  ${by}${failed}`;
}

export function merge(into: TickStats, from: TickStats): void {
  into.sent += from.sent;
  into.ok += from.ok;
  into.failed += from.failed;
  into.latenciesMs.push(...from.latenciesMs);
  for (const [k, v] of from.byReplica) into.byReplica.set(k, (into.byReplica.get(k) ?? 0) + v);
  for (const [k, v] of from.failures) into.failures.set(k, (into.failures.get(k) ?? 0) + v);
}

/** The closing summary; the test reads its `Total:` and `Resilience:` lines. */
export function summary(total: TickStats, view: CatalogView | undefined, flaky: string): string[] {
  const pct = (100 * total.ok) / Math.max(1, total.sent);
  const lines = [
    `Total: ${total.sent} requests, ${total.ok} ok (${pct.toFixed(2)} %), p50 ${percentile(total.latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(total.latenciesMs, 99).toFixed(1)} ms; served by ${[...total.byReplica].sort().map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ];
  if (total.failures.size > 0) lines.push(`Failures: ${[...total.failures].map(([k, v]) => `${k} ×${v}`).join(', ')}`);
  if (view) {
    lines.push(
      `Resilience: ${view.retries} retries (${view.budgetExhausted} refused by the retry budget), ${view.ejections} ejections, ${view.returns} returns; ejected now: ${view.ejected.map((e) => e.name).join(', ') || 'none'}`,
      `  ${flaky} fails about ${Math.round(FLAKY_FAIL_RATE * 100)} % of its requests with 503: the frontend's sidecar ${view.retries > 0 ? 'retried them on another replica' : 'saw no failure worth a retry'}${view.ejections > 0 ? ` and ejected ${flaky} after consecutive failures` : ''}; the client saw ${pct.toFixed(2)} % success.`,
    );
  }
  return lines;
}
