/** Our minimal undici pass-through (bench/peers/undici-passthrough.ts): the runtime's limit. */
import { startNodePeer } from './node-peer.ts';
import type { TargetDef } from './types.ts';

export const undiciTarget: TargetDef = {
  id: 'undici',
  label: 'undici pass-through',
  hops: 1,
  tools: [],
  start: (ctx) => startNodePeer(ctx, 'undici-passthrough', 'undici-passthrough.ts'),
};
