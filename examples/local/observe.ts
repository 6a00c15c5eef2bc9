import type { Layout } from './layout.ts';

/** What the frontend's sidecar says about its calls to catalog: retries, ejections, replicas out of rotation. */
export interface CatalogView {
  retries: number;
  budgetExhausted: number;
  ejections: number;
  returns: number;
  /** Replica names ejected right now, with when they come back. */
  ejected: { name: string; until: string | undefined; times: number }[];
}

interface ClustersBody {
  services?: {
    service: string;
    retryBudget?: { retries: number; budgetExhausted: number };
    outlierDetection?: { ejections: number; returns: number } | null;
    endpoints: { address: string; outlier?: { ejected: boolean; ejectedUntil?: string; timesEjected: number } | null }[];
  }[];
}

/** Reads the frontend sidecar's admin /clusters; undefined when it does not answer. */
export async function readCatalogView(layout: Layout, adminPort: number): Promise<CatalogView | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${adminPort}/clusters`, { signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as ClustersBody;
    const catalog = body.services?.find((s) => s.service === 'catalog.default');
    if (!catalog) return undefined;
    const byAddress = new Map(layout.members.map((m) => [`127.0.0.1:${m.inbound}`, m.name]));
    return {
      retries: catalog.retryBudget?.retries ?? 0,
      budgetExhausted: catalog.retryBudget?.budgetExhausted ?? 0,
      ejections: catalog.outlierDetection?.ejections ?? 0,
      returns: catalog.outlierDetection?.returns ?? 0,
      ejected: catalog.endpoints
        .filter((e) => e.outlier?.ejected === true)
        .map((e) => ({ name: byAddress.get(e.address) ?? e.address, until: e.outlier?.ejectedUntil, times: e.outlier?.timesEjected ?? 1 })),
    };
  } catch {
    return undefined;
  }
}

/** Lines worth a person's attention between two views: a replica ejected or back in rotation. */
export function describeChanges(before: CatalogView | undefined, now: CatalogView): string[] {
  const lines: string[] = [];
  const was = new Set(before?.ejected.map((e) => e.name) ?? []);
  const is = new Set(now.ejected.map((e) => e.name));
  for (const e of now.ejected) {
    if (was.has(e.name)) continue;
    const seconds = e.until ? Math.round((Date.parse(e.until) - Date.now()) / 1000) : undefined;
    lines.push(`  >> ${e.name} EJECTED by the frontend's sidecar (consecutive 5xx), out of rotation${seconds !== undefined ? ` for ${seconds} s` : ''} (ejection #${e.times})`);
  }
  for (const name of was) if (!is.has(name)) lines.push(`  >> ${name} back in rotation: ejection time over, one more failure streak ejects it for longer`);
  return lines;
}
