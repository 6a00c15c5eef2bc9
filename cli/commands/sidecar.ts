import type { Command } from '../command.ts';
import { describeFlags, LOG_FLAGS, parseFlags, parseLogFlags, untilSignal, parseHostPort, parsePort, type FlagSpec } from '../options.ts';
import { hostname } from 'node:os';
import { startMeshedSidecar } from '../../sidecar/meshed-sidecar.ts';
import { startSidecar, type RunningSidecar, type SidecarOptions } from '../../sidecar/sidecar.ts';
import { GOSSIP_FLAGS, parseJoin, readKeyring, readPublicKeys } from '../mesh-flags.ts';

const FLAGS: Record<string, FlagSpec> = {
  service: { type: 'string', env: 'OUTRIGGER_SERVICE', description: 'name of the local app\'s Service', placeholder: 'NAME' },
  namespace: { type: 'string', env: 'OUTRIGGER_NAMESPACE', default: 'default', description: 'namespace of the local Service and of bare Host names', placeholder: 'NS' },
  app: { type: 'string', env: 'OUTRIGGER_APP', description: 'where the local app listens', placeholder: 'HOST:PORT' },
  inbound: { type: 'string', env: 'OUTRIGGER_INBOUND', default: '15006', description: 'inbound listener port (mesh traffic for the app)', placeholder: 'PORT' },
  'inbound-host': { type: 'string', env: 'OUTRIGGER_INBOUND_HOST', default: '0.0.0.0', description: 'address the inbound listener binds', placeholder: 'ADDR' },
  outbound: { type: 'string', env: 'OUTRIGGER_OUTBOUND', default: '15001', description: 'outbound listener port on 127.0.0.1 (the app\'s calls out)', placeholder: 'PORT' },
  admin: { type: 'string', env: 'OUTRIGGER_ADMIN', default: '15000', description: 'admin API port on 127.0.0.1', placeholder: 'PORT' },
  'health-port': { type: 'string', env: 'OUTRIGGER_HEALTH_PORT', description: 'serve only /ready and /live on 0.0.0.0 at this port, for the kubelet (Istio: 15021); off when unset', placeholder: 'PORT' },
  config: { type: 'string', env: 'OUTRIGGER_CONFIG', description: 'policy YAML file or folder (watched for changes); optional with --join', placeholder: 'PATH' },
  'access-log': { type: 'string', env: 'OUTRIGGER_ACCESS_LOG', default: 'off', description: 'access log: off, stdout or a file path', placeholder: 'DEST' },
  'access-log-sample': { type: 'string', env: 'OUTRIGGER_ACCESS_LOG_SAMPLE', default: '1', description: 'share of successful requests logged, 0–1 (failures always are)', placeholder: 'RATE' },
  ...LOG_FLAGS,
  'drain-seconds': { type: 'string', env: 'OUTRIGGER_DRAIN_SECONDS', default: '5', description: 'on SIGTERM or POST /drain: readiness off at once, keep serving this long, then close listeners and let requests in flight finish', placeholder: 'SECONDS' },
  'overload-loop-delay-ms': { type: 'string', env: 'OUTRIGGER_OVERLOAD_LOOP_DELAY_MS', default: '500', description: 'shed new requests (503 OM) while the event loop p99 delay exceeds this; 0 = never', placeholder: 'MS' },
  'overload-heap': { type: 'string', env: 'OUTRIGGER_OVERLOAD_HEAP', default: '0.9', description: 'shed new requests while the heap uses more than this share of its limit; 0 = never', placeholder: 'FRACTION' },
  'no-watch': { type: 'boolean', env: 'OUTRIGGER_NO_WATCH', description: 'do not reload when config files change' },
  ...GOSSIP_FLAGS,
  'mesh-key': { type: 'string', env: 'OUTRIGGER_MESH_KEY', description: 'public key(s) whose snapshot signatures are trusted (required with --join)', placeholder: 'FILE' },
  name: { type: 'string', env: 'OUTRIGGER_NAME', description: 'member name, unique in the mesh (default: SERVICE-HOSTNAME-PID)', placeholder: 'NAME' },
  zone: { type: 'string', env: 'OUTRIGGER_ZONE', description: 'zone advertised with this endpoint', placeholder: 'ZONE' },
};

export const sidecarCommand: Command = {
  name: 'sidecar',
  usage: `outrigger sidecar --service NAME --app HOST:PORT --config PATH [flags]
       outrigger sidecar --service NAME --app HOST:PORT --join HOST:PORT --mesh-key FILE [flags]

Runs the proxy beside one app. Mesh traffic for the app arrives on the inbound
listener and goes to --app; the app's calls to other Services go to the outbound
listener (Host: catalog, or HTTP_PROXY=http://127.0.0.1:15001) and are routed by
the HTTPRoutes and endpoints in --config. With --join the sidecar is also a
mesh member: it advertises its Service, learns every Service's endpoints from
the members advertising them, and runs the newest signed snapshot (verified with
--mesh-key) that any member holds. Every flag can also be set by the
environment variable shown.

Flags:
${describeFlags(FLAGS)}`,
  async run(args, io) {
    let flags;
    try {
      flags = parseFlags(args, FLAGS);
    } catch (error) {
      io.err(`outrigger sidecar: ${(error as Error).message}\nrun "outrigger sidecar --help" for the flags`);
      return 2;
    }
    if (flags.help) {
      io.out(this.usage);
      return 0;
    }
    try {
      if (typeof flags.service !== 'string') throw new Error('--service is required (or OUTRIGGER_SERVICE)');
      const meshed = typeof flags.join === 'string' || typeof flags['mesh-key'] === 'string';
      if (typeof flags.config !== 'string' && !meshed) throw new Error('--config is required (or OUTRIGGER_CONFIG), unless the sidecar joins a mesh (--join, --mesh-key)');
      if (meshed && typeof flags['mesh-key'] !== 'string') throw new Error('--mesh-key is required with --join: the public key that signs snapshots (outrigger keygen)');
      const { logLevel, logFormat } = parseLogFlags(flags);
      const accessLogSample = Number(flags['access-log-sample']);
      if (!(accessLogSample >= 0 && accessLogSample <= 1)) throw new Error(`--access-log-sample must be a number from 0 to 1, got "${String(flags['access-log-sample'])}"`);
      const drainSeconds = Number(flags['drain-seconds']);
      if (!(drainSeconds >= 0 && drainSeconds <= 3_600)) throw new Error(`--drain-seconds must be a number of seconds from 0 to 3600, got "${String(flags['drain-seconds'])}"`);
      const overloadDelay = Number(flags['overload-loop-delay-ms']);
      if (!(overloadDelay >= 0)) throw new Error(`--overload-loop-delay-ms must be a number of milliseconds ≥ 0, got "${String(flags['overload-loop-delay-ms'])}"`);
      const overloadHeap = Number(flags['overload-heap']);
      if (!(overloadHeap >= 0 && overloadHeap <= 1)) throw new Error(`--overload-heap must be a fraction from 0 to 1, got "${String(flags['overload-heap'])}"`);
      const options: SidecarOptions = {
        service: flags.service,
        namespace: String(flags.namespace),
        app: parseHostPort(flags.app, 'app'),
        inboundPort: parsePort(flags.inbound, 'inbound'),
        inboundHost: String(flags['inbound-host']),
        outboundPort: parsePort(flags.outbound, 'outbound'),
        adminPort: parsePort(flags.admin, 'admin'),
        healthPort: flags['health-port'] === undefined ? undefined : parsePort(flags['health-port'], 'health-port'),
        config: typeof flags.config === 'string' ? flags.config : undefined,
        accessLog: String(flags['access-log']),
        accessLogSample,
        logLevel,
        logFormat,
        watch: flags['no-watch'] !== true,
        drainSeconds,
        overload: { maxEventLoopDelayMs: overloadDelay, maxHeapFraction: overloadHeap },
      };
      const sidecar: RunningSidecar = meshed
        ? await startMeshedSidecar(options, {
            name: typeof flags.name === 'string' ? flags.name : `${flags.service}-${hostname()}-${process.pid}`,
            zone: typeof flags.zone === 'string' ? flags.zone : undefined,
            gossipHost: String(flags['gossip-host']),
            gossipPort: parsePort(flags['gossip-port'], 'gossip-port'),
            advertiseHost: typeof flags['advertise-host'] === 'string' ? flags['advertise-host'] : undefined,
            join: parseJoin(flags.join),
            keyring: readKeyring(flags['gossip-key']),
            clusterLabel: String(flags['cluster-label']),
            publicKeys: readPublicKeys(String(flags['mesh-key']), 'mesh-key'),
            stateDir: typeof flags['state-dir'] === 'string' ? flags['state-dir'] : undefined,
          })
        : await startSidecar(options);
      await untilSignal(() => sidecar.close());
      return 0;
    } catch (error) {
      io.err(`outrigger sidecar: ${(error as Error).message}`);
      return 1;
    }
  },
};
