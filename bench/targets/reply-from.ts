/** fastify 5 + @fastify/reply-from, logger off (bench/peers/reply-from.ts). */
import { startNodePeer } from './node-peer.ts';
import type { TargetDef } from './types.ts';

export const replyFromTarget: TargetDef = {
  id: 'reply-from',
  label: '@fastify/reply-from',
  hops: 1,
  tools: [],
  start: (ctx) => startNodePeer(ctx, 'reply-from', 'reply-from.ts'),
};
