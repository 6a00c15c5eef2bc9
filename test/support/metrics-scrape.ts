import { send } from './client.ts';

/** One scrape of a sidecar's admin `/metrics`; `value(series)` reads a sample by its name and labels as exposed, or undefined. */
export async function scrapeMetrics(adminPort: number): Promise<{ value(series: string): number | undefined }> {
  const lines = (await send(adminPort, { path: '/metrics' })).body.split('\n');
  return {
    value(series) {
      const line = lines.find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    },
  };
}

/** `outrigger_downstream_rejected_total` for one listener and reason; 0 before the first rejection. */
export async function rejectedCount(adminPort: number, listener: string, reason: string): Promise<number> {
  return (await scrapeMetrics(adminPort)).value(`outrigger_downstream_rejected_total{listener="${listener}",reason="${reason}"}`) ?? 0;
}
