import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { aggregateSignals, type ServiceSignals } from '../../mesh/signals-aggregate.ts';
import type { SignalSource } from '../../mesh/signals-collector.ts';
import { newLatencyCounts, recordLatency } from '../../mesh/signals-histogram.ts';
import type { SignalReport, WindowName, WindowSignals } from '../../mesh/signals-report.ts';
import { autoscalingSignal, type AutoscalingSignal } from '../../policy/schema/autoscaling-signal.ts';
import type { AutoscalingRoutes } from './routes.ts';

/** Test helpers shared by the autoscaling tests (not imported by production code). */

export function windowOf(durationMs: number, errors: number, concurrency: number, latencies: Array<[count: number, ms: number]>): WindowSignals {
  const latency = newLatencyCounts();
  let requests = 0;
  for (const [count, ms] of latencies) {
    recordLatency(latency, ms, count);
    requests += count;
  }
  return { durationMs, requests, errors, concurrency, peakConcurrency: Math.ceil(concurrency) + 2, latency };
}

export function reportOf(member: string, service: string, stable: WindowSignals, panic: WindowSignals): SignalReport {
  return { service, member, at: 1, intervalMs: 2000, windows: { stable, panic } };
}

/**
 * checkout.shop: two members; stable 40 rps, concurrency 4.75, 12 errors in 2400 (0.005), p99 ≈ 20 ms;
 * panic 25 rps. catalog.shop: one member. checkout.other: one member in another namespace.
 */
export const FIXTURE_REPORTS: readonly SignalReport[] = [
  reportOf('checkout-a', 'checkout.shop', windowOf(60_000, 12, 2.5, [[1200, 20]]), windowOf(6000, 0, 2, [[60, 20]])),
  reportOf('checkout-b', 'checkout.shop', windowOf(60_000, 0, 2.25, [[1188, 20], [12, 400]]), windowOf(6000, 3, 3, [[90, 30]])),
  reportOf('catalog-a', 'catalog.shop', windowOf(60_000, 0, 0.5, [[600, 5]]), windowOf(6000, 0, 0.5, [[60, 5]])),
  reportOf('checkout-x', 'checkout.other', windowOf(60_000, 0, 1, [[60, 1]]), windowOf(6000, 0, 1, [[6, 1]])),
];

/** A SignalSource over fixed reports, as the collector would serve them. */
export function fixedSource(reports: readonly SignalReport[] = FIXTURE_REPORTS): SignalSource {
  return {
    services: () => [...new Set(reports.map((r) => r.service))].sort(),
    aggregate: (service: string, window: WindowName): ServiceSignals | undefined => {
      const mine = reports.filter((r) => r.service === service);
      return mine.length === 0 ? undefined : aggregateSignals(service, window, mine);
    },
  };
}

/** An AutoscalingSignal as the loader would produce it (defaults applied). */
export function policyOf(name: string, namespace: string, spec: unknown): AutoscalingSignal {
  return autoscalingSignal.parse({ apiVersion: 'outrigger.dev/v1alpha1', kind: 'AutoscalingSignal', metadata: { name, namespace }, spec });
}

/** Serves the routes on a real HTTP server on 127.0.0.1:0; other paths get 418 so a test can tell them apart. */
export async function serveRoutes(routes: AutoscalingRoutes): Promise<{ url: string; close: () => Promise<void>; server: Server }> {
  const server = createServer((req, res) => {
    if (!routes(req, res)) {
      res.writeHead(418);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
