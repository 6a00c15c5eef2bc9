/** wrk straight at the upstream: the reference row (no proxy, so no proxy CPU or RSS). */
import type { TargetContext, TargetDef } from './types.ts';

export const directTarget: TargetDef = {
  id: 'direct',
  label: 'direct (no proxy)',
  hops: 0,
  tools: [],
  start(ctx: TargetContext) {
    return Promise.resolve({
      url: `http://${ctx.upstream.address}`,
      processes: [],
      notes: () => [],
      stop: () => Promise.resolve(),
    });
  },
};
