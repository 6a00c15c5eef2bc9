import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { createAdminServer } from './admin/admin-server.ts';
import { createHealthServer } from './admin/health-server.ts';
import { RecentRequests } from './observability/recent-requests.ts';
import { DEFAULT_OVERLOAD_THRESHOLDS, OverloadGuard, type OverloadThresholds } from './overload/overload-guard.ts';
import { chainObservers, createSignalRecorder, type SignalRecorder } from './observability/signals/index.ts';
import { applyListenerLimits, createListener, listen, listenerLimits, type RejectReason } from './listeners/http-server.ts';
import { inboundHandlers } from './listeners/inbound.ts';
import { outboundHandlers } from './listeners/outbound.ts';
import { exposesFlag, type RequestObserver } from './listeners/request-entry.ts';
import { createLogger, type LogLevel } from './log.ts';
import { AccessLog } from './observability/access-log.ts';
import { LazyTracer } from './observability/tracing/lazy-tracer.ts';
import { SidecarMetrics } from './observability/metrics/sidecar-metrics.ts';
import type { DiscoverySource } from './discovery/discovery-source.ts';
import { ConfigStore, type ReloadStatus } from './runtime/config-store.ts';
import type { PushedFile } from './runtime/pushed-config.ts';
import { UpstreamPools } from './upstream/pools.ts';

export interface SidecarOptions {
  service: string;
  namespace: string;
  /** HOST:PORT of the local app. */
  app: string;
  inboundPort: number;
  outboundPort: number;
  adminPort: number;
  /** Address the inbound listener binds; the outbound and admin listeners are loopback only. */
  inboundHost: string;
  /** A YAML file or folder, watched when `watch`. Without one the sidecar starts on an empty policy and takes pushed config (`applyTexts`). */
  config?: string | undefined;
  /** Endpoints learnt at run time, merged with the ServiceEndpoints ones. */
  discovery?: DiscoverySource | undefined;
  /** Runs once the config store exists and before any listener opens, e.g. to restore a persisted snapshot. */
  beforeListen?: ((store: ConfigStore) => Promise<void>) | undefined;
  /**
   * Pre-drain delay on shutdown or `POST /drain`: readiness turns false at once, but new connections are still served
   * this long (endpoint removal lags readiness in Kubernetes); then the listeners stop accepting, responses close their
   * connections, idle keep-alive connections are closed, and requests in flight get max(5 s, this) to finish.
   */
  drainSeconds?: number | undefined;
  /** Runs when a drain starts, beside the pre-drain delay (a meshed sidecar leaves the gossip mesh). */
  onDrain?: (() => Promise<void>) | undefined;
  /** When to shed load (event loop delay, heap share); defaults: 500 ms, 90 %. */
  overload?: OverloadThresholds | undefined;
  /** Port of a listener serving only `/ready` and `/live` for the kubelet (Istio: 15021); none when unset. */
  healthPort?: number | undefined;
  /** Address the health listener binds (default 0.0.0.0: the kubelet probes the pod IP). */
  healthHost?: string | undefined;
  /** Extra condition for `/ready`, e.g. "a snapshot has arrived" when config comes only from the mesh. */
  readyGate?: (() => boolean) | undefined;
  accessLog: 'off' | 'stdout' | string;
  /** Share of successful requests written to the access log (failures always are); 1 when unset. */
  accessLogSample?: number;
  logLevel: LogLevel;
  logFormat: 'text' | 'json';
  watch: boolean;
}

export interface RunningSidecar {
  inboundPort: number;
  outboundPort: number;
  adminPort: number;
  /** Port of the probe-only health listener, when one was asked for. */
  healthPort: number | undefined;
  store: ConfigStore;
  /** This sidecar's inbound traffic, per second: the autoscaling signals it reports. */
  signals: SignalRecorder;
  /** Validates and swaps in pushed policy files (e.g. a signed snapshot's); see ConfigStore.applyTexts. */
  applyTexts(files: readonly PushedFile[], label: string): Promise<ReloadStatus>;
  /** Readiness off, pre-drain delay, then listeners closed and requests in flight finished; the process stays up. */
  drain(): Promise<void>;
  /** Drains, then stops everything. */
  close(): Promise<void>;
}

/** Starts a sidecar: loads config (refusing to start on an invalid one), binds the listeners, then reports ready. */
export async function startSidecar(options: SidecarOptions): Promise<RunningSidecar> {
  const log = createLogger(`sidecar[${options.service}]`, { level: options.logLevel, format: options.logFormat });
  const pools = new UpstreamPools();
  const tracer = new LazyTracer({ service: options.service, namespace: options.namespace, log });
  // The listeners exist only after the first load; later loads change their limits in place.
  const listeners: Server[] = [];
  const store = new ConfigStore(
    options.config,
    { pools, localService: { name: options.service, namespace: options.namespace }, appAddress: options.app, log, discovery: options.discovery },
    log,
    {
      onLoaded: (config) => {
        tracer.configure(config.mesh.tracing);
        for (const server of listeners) applyListenerLimits(server, listenerLimits(config.mesh.downstream));
      },
    },
  );
  const first = await store.reload();
  if (!first.ok) {
    store.close();
    await pools.destroy();
    throw new Error(`invalid config in ${options.config ?? 'the empty policy'}:\n${first.errors.map((e) => `  ${e.file}:${e.line}:${e.column}: ${e.path}: ${e.message}`).join('\n')}`);
  }
  if (options.watch) store.watch();
  await tracer.loaded();
  await options.beforeListen?.(store);
  await waitForRateLimitBackends(store, log);

  const accessLog = options.accessLog === 'off' ? undefined : new AccessLog(options.accessLog, { sampleRate: options.accessLogSample ?? 1 });
  const metrics = new SidecarMetrics({ source: store, service: options.service, namespace: options.namespace, tracing: tracer });
  const signals = createSignalRecorder();
  const recent = new RecentRequests();
  const observe: RequestObserver = metrics.observer(chainObservers(signals.observer, recent.observer, accessLog ? (ctx, outcome) => accessLog.record(ctx, outcome) : undefined));

  let ready = false;
  let draining = false;
  let drainStarted: Promise<void> | undefined;
  const exposeFlag = (req: IncomingMessage): boolean => exposesFlag(req, store.current);
  const rejectedInbound = (reason: RejectReason): void => metrics.onRejected('inbound', reason);
  const rejectedOutbound = (reason: RejectReason): void => metrics.onRejected('outbound', reason);
  const inbound = inboundHandlers({ store, observe, tracer, onReject: rejectedInbound });
  const outbound = outboundHandlers({ store, namespace: options.namespace, source: `${options.service}.${options.namespace}`, observe, tracer, onReject: rejectedOutbound });
  const internalError = (error: unknown): void => log.error('internal error while handling a request', { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  const isDraining = (): boolean => draining;
  const overload = new OverloadGuard(options.overload ?? DEFAULT_OVERLOAD_THRESHOLDS, (reason) =>
    reason ? log.warn('overloaded: shedding new requests with 503 OM', { reason }) : log.info('no longer overloaded'),
  );
  const overloaded = (): string | undefined => overload.shedding;
  const limits = listenerLimits(store.current.mesh.downstream);
  const inboundServer = createListener(inbound.onRequest, inbound.onUpgrade, internalError, limits, { onReject: rejectedInbound, exposeFlag, isDraining, overloaded });
  const outboundServer = createListener(outbound.onRequest, outbound.onUpgrade, internalError, limits, { onReject: rejectedOutbound, exposeFlag, isDraining, overloaded });
  listeners.push(inboundServer, outboundServer);
  const sockets = new Set<Socket>();
  const preDrainMs = Math.max(0, options.drainSeconds ?? 0) * 1_000;
  const drain = (): Promise<void> => {
    drainStarted ??= (async () => {
      ready = false;
      log.info('draining: readiness off, still serving for the pre-drain delay', { preDrainMs });
      const left = options.onDrain?.().catch((error: unknown) => log.warn('leaving the mesh failed', { error: String(error) }));
      await new Promise((resolve) => setTimeout(resolve, preDrainMs));
      await left;
      draining = true;
      await closeServers([inboundServer, outboundServer], sockets, Math.max(5_000, preDrainMs));
      log.info('drained: listeners closed, requests in flight finished');
    })();
    return drainStarted;
  };
  const isReady = (): boolean => ready && (options.readyGate?.() ?? true);
  const healthServer = options.healthPort !== undefined ? createHealthServer(isReady) : undefined;
  const adminServer = createAdminServer({
    store,
    pools,
    service: options.service,
    startedAt: new Date(),
    isReady,
    metrics,
    drain: () => void drain(),
    isDraining: () => drainStarted !== undefined,
    recent,
  });
  for (const server of [inboundServer, outboundServer]) {
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
  }

  const servers: Server[] = [];
  try {
    const adminPort = await listen(adminServer, options.adminPort, '127.0.0.1');
    servers.push(adminServer);
    const healthPort = healthServer ? await listen(healthServer, options.healthPort ?? 0, options.healthHost ?? '0.0.0.0') : undefined;
    if (healthServer) servers.push(healthServer);
    const inboundPort = await listen(inboundServer, options.inboundPort, options.inboundHost);
    servers.push(inboundServer);
    const outboundPort = await listen(outboundServer, options.outboundPort, '127.0.0.1');
    servers.push(outboundServer);
    ready = true;
    log.info('ready', { inbound: `${options.inboundHost}:${inboundPort}`, outbound: `127.0.0.1:${outboundPort}`, admin: `127.0.0.1:${adminPort}`, ...(healthPort !== undefined ? { health: healthPort } : {}), app: options.app, version: store.current.version });
    return {
      inboundPort,
      outboundPort,
      adminPort,
      healthPort,
      store,
      signals,
      applyTexts: (files, label) => store.applyTexts(files, label),
      drain,
      async close() {
        await drain();
        overload.close();
        store.close();
        for (const server of [adminServer, healthServer]) {
          if (!server) continue;
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeAllConnections();
          await closed;
        }
        await accessLog?.close();
        await tracer.shutdown();
        await pools.close();
      },
    };
  } catch (error) {
    overload.close();
    for (const server of servers) server.close();
    store.close();
    await tracer.shutdown(0);
    await pools.destroy();
    throw error;
  }
}

/** Stops accepting, closes idle keep-alive connections, lets requests in flight finish for up to `graceMs`, then cuts the rest. */
async function closeServers(servers: Server[], sockets: Set<Socket>, graceMs: number): Promise<void> {
  const closed = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  for (const server of servers) server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
  await Promise.race([closed, timeout]);
  clearTimeout(timer);
  for (const socket of sockets) socket.destroy();
  await closed;
}

/**
 * Ready should mean "enforcing the config": give global rate-limit backends (Redis) up to a second to connect before
 * the listeners open. A backend that does not answer by then is not fatal: its failure mode applies until it does.
 */
async function waitForRateLimitBackends(store: ConfigStore, log: ReturnType<typeof createLogger>): Promise<void> {
  const config = store.current;
  const runtimes = [config.inbound, ...config.services.values()].map((s) => s.rateLimit).filter((r) => r !== undefined);
  const results = await Promise.all(runtimes.map((r) => r.whenReady(1_000)));
  if (results.includes(false)) log.warn('a global rate limit backend is not reachable yet; its failure mode applies until it is');
}
