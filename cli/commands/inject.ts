import { readFile } from 'node:fs/promises';
import { resolveInjectorConfig, DEFAULT_INJECTOR_CONFIG, type InjectorConfig } from '../../control-plane/injection/config.ts';
import { injectYamlStream } from '../../control-plane/injection/yaml-stream.ts';
import { parseCommandArgs, usageError, type Command } from '../command.ts';

const USAGE = `outrigger inject -f FILE|- [flags]

Adds the Outrigger sidecar to the workloads in a Kubernetes YAML stream and
prints the result, as "istioctl kube-inject" does: the same change the
injection webhook makes to pods, made to the pod templates of Deployments,
StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and Pods. Other kinds,
document order and comments are kept. Namespace labels are not known offline,
so every workload is injected unless its pod template opts out (annotation
outrigger.dev/inject: "disabled") or lives in a system namespace.

  outrigger inject -f app.yaml | kubectl apply -f -

The YAML goes to stdout; one line per workload on stderr says what was done
and why (--quiet drops those). Exit 0 on success, 1 when the input cannot be
read or is not valid YAML (file:line:column: message), 2 on a usage error.
See docs/injection.md for the annotations.

Flags:
  -f, --filename FILE       manifest to read; - for stdin (required)
  --sidecar-mode MODE       native (init container with restartPolicy: Always,
                            Kubernetes >= 1.29) or container (default ${DEFAULT_INJECTOR_CONFIG.sidecarMode})
  --capture MODE            iptables or explicit, unless a pod says otherwise
                            (default ${DEFAULT_INJECTOR_CONFIG.captureMode})
  --image IMAGE             proxy image (default ${DEFAULT_INJECTOR_CONFIG.image})
  --join HOST:PORT          control plane's gossip Service
                            (default ${DEFAULT_INJECTOR_CONFIG.join})
  --mesh-key-secret NAME    Secret with signing-key.pub.pem (default ${DEFAULT_INJECTOR_CONFIG.meshKeySecret})
  --gossip-key-secret NAME  Secret with gossip.key (default ${DEFAULT_INJECTOR_CONFIG.gossipKeySecret})
  -q, --quiet               no per-workload lines on stderr
  -h, --help                print this help`;

export interface InjectCommandOptions {
  /** Reads all of stdin for `-f -`; tests pass their own. */
  readStdin?: () => Promise<string>;
}

export function createInjectCommand(options: InjectCommandOptions = {}): Command {
  const readStdin = options.readStdin ?? readProcessStdin;
  return {
    name: 'inject',
    usage: USAGE,
    async run(args, io) {
      const parsed = parseCommandArgs(io, { name: 'inject', usage: USAGE }, {
        args,
        allowPositionals: false,
        options: {
          filename: { type: 'string', short: 'f' },
          'sidecar-mode': { type: 'string' },
          capture: { type: 'string' },
          image: { type: 'string' },
          join: { type: 'string' },
          'mesh-key-secret': { type: 'string' },
          'gossip-key-secret': { type: 'string' },
          quiet: { type: 'boolean', short: 'q', default: false },
          help: { type: 'boolean', short: 'h', default: false },
        },
      });
      if (typeof parsed === 'number') return parsed;
      const { values } = parsed;
      if (values.filename === undefined || values.filename === '') return usageError(io, 'inject', 'missing -f FILE (or -f - for stdin)');
      let config: InjectorConfig;
      try {
        config = resolveInjectorConfig({
          sidecarMode: values['sidecar-mode'] as InjectorConfig['sidecarMode'] | undefined,
          captureMode: values.capture as InjectorConfig['captureMode'] | undefined,
          image: values.image,
          join: values.join,
          meshKeySecret: values['mesh-key-secret'],
          gossipKeySecret: values['gossip-key-secret'],
        });
      } catch (error) {
        return usageError(io, 'inject', (error as Error).message);
      }

      const file = values.filename;
      const name = file === '-' ? '<stdin>' : file;
      let text: string;
      try {
        text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
      } catch (error) {
        io.err(`outrigger inject: cannot read ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
        return 1;
      }
      const result = injectYamlStream(text, config);
      if (!result.ok) {
        io.err(`${name}:${result.line}:${result.column}: ${result.message}`);
        return 1;
      }
      if (result.output !== '') io.out(result.output.replace(/\n$/, ''));
      if (!values.quiet) {
        for (const w of result.workloads) {
          const head = `${name}:${w.line}: ${w.workload}: ${w.injected ? 'injected' : `not injected (${w.code})`}: ${w.reason}`;
          io.err([head, ...w.notes.map((note) => `  note: ${note}`)].join('\n'));
        }
      }
      return 0;
    },
  };
}

export const injectCommand: Command = createInjectCommand();

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

