import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { SystemClock } from '../gossip/clock.ts';
import type { GossipConfig } from '../gossip/config.ts';
import type { Keyring } from '../gossip/keyring.ts';
import { Memberlist } from '../gossip/memberlist.ts';
import { UdpTcpTransport } from '../gossip/udp-tcp-transport.ts';
import type { Logger } from './log.ts';
import { encodeMemberMeta, type MeshMemberMeta } from './member-meta.ts';

export interface MeshMemberOptions {
  name: string;
  bindHost: string;
  /** 0 picks a free port. */
  port: number;
  /** Host other members reach this one at; defaults to `bindHost`. */
  advertiseHost?: string | undefined;
  /** `host:port` of members to join through; empty starts a new cluster. */
  join: readonly string[];
  keyring?: Keyring | undefined;
  meta: MeshMemberMeta;
  log: Logger;
  config?: Partial<GossipConfig>;
}

export interface MeshMember {
  readonly memberlist: Memberlist;
  readonly address: string;
  meta: MeshMemberMeta;
  /** Announces new metadata (config version, rejection) to the mesh. */
  setMeta(change: Partial<MeshMemberMeta>): void;
  /** Resolves once a join succeeded (at once with no seeds). */
  readonly joined: Promise<void>;
  /** Leaves gracefully (others see "left", not a failure), then closes the sockets. */
  close(): Promise<void>;
}

/**
 * Every address behind each seed: a Kubernetes headless Service name resolves to all its ready pods (and, with
 * publishNotReadyAddresses, the starting ones), and a replica must not take its own address for a peer.
 */
export async function resolveSeeds(seeds: readonly string[], self: string): Promise<string[]> {
  const resolved = new Set<string>();
  for (const seed of seeds) {
    const colon = seed.lastIndexOf(':');
    const host = seed.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = seed.slice(colon + 1);
    if (isIP(host)) {
      resolved.add(seed);
      continue;
    }
    try {
      for (const { address, family } of await lookup(host, { all: true })) resolved.add(family === 6 ? `[${address}]:${port}` : `${address}:${port}`);
    } catch {
      // Not resolvable yet (DNS for a new Service lags): the next attempt tries again.
    }
  }
  resolved.delete(self);
  return [...resolved];
}

/** Binds the gossip port, starts membership and keeps trying the seeds until one answers. */
export async function startMeshMember(options: MeshMemberOptions): Promise<MeshMember> {
  const { log } = options;
  const transport = await UdpTcpTransport.bind({
    host: options.bindHost,
    port: options.port,
    ...(options.advertiseHost ? { advertiseHost: options.advertiseHost } : {}),
    onError: (error) => log.debug('gossip transport error', { error: error.message }),
  });
  const memberlist = new Memberlist({
    name: options.name,
    transport,
    clock: new SystemClock(),
    config: options.config ?? {},
    meta: encodeMemberMeta(options.meta),
    ...(options.keyring ? { keyring: options.keyring } : {}),
    log: (level, message, fields) => log[level](message, fields),
  });
  memberlist.start();
  log.info('gossip listening', { gossip: transport.address });
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const seeds = options.join.filter((seed) => seed !== transport.address);
  const joined = new Promise<void>((resolve) => {
    if (seeds.length === 0) return resolve();
    let delay = 250;
    const attempt = (): void => {
      if (closed) return;
      void resolveSeeds(seeds, transport.address)
        .then((addresses) => (addresses.length === 0 ? 0 : memberlist.join(addresses)))
        .then((answered) => {
          if (answered > 0) {
            log.info('joined the mesh', { through: seeds.join(','), members: memberlist.allMembers().length });
            return resolve();
          }
          log.warn('no seed answered; retrying', { seeds: seeds.join(','), inMs: delay });
          retry = setTimeout(attempt, delay);
          retry.unref();
          delay = Math.min(delay * 2, 5_000);
        });
    };
    attempt();
  });
  const member: MeshMember = {
    memberlist,
    address: transport.address,
    meta: options.meta,
    setMeta(change) {
      member.meta = { ...member.meta, ...change };
      memberlist.updateMeta(encodeMemberMeta(member.meta));
    },
    joined,
    async close() {
      closed = true;
      clearTimeout(retry);
      await memberlist.leave(1_000);
      await memberlist.shutdown();
    },
  };
  return member;
}
