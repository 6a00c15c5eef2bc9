import type { RequestObserver } from '../../listeners/request-entry.ts';

/**
 * One observer that calls each given observer in order, `onStart` included; undefined entries are skipped. Lets the
 * signal recorder sit beside the access log behind `SidecarMetrics.observer(next)`, which takes a single `next`.
 */
export function chainObservers(...observers: (RequestObserver | undefined)[]): RequestObserver {
  const all = observers.filter((o): o is RequestObserver => o !== undefined);
  const starts = all.flatMap((o) => (o.onStart ? [o.onStart] : []));
  const chained: RequestObserver = (ctx, outcome) => {
    for (const observe of all) observe(ctx, outcome);
  };
  if (starts.length > 0) {
    chained.onStart = (ctx) => {
      for (const start of starts) start(ctx);
    };
  }
  return chained;
}
