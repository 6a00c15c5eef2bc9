/** node-http-proxy 1.18 with a keep-alive agent (bench/peers/http-proxy.ts). */
import { startNodePeer } from './node-peer.ts';
import type { TargetDef } from './types.ts';

export const httpProxyTarget: TargetDef = {
  id: 'http-proxy',
  label: 'node-http-proxy',
  hops: 1,
  tools: [],
  start: (ctx) => startNodePeer(ctx, 'http-proxy', 'http-proxy.ts'),
};
