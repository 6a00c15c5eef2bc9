import type { Command } from './command.ts';

/** A subcommand as `outrigger --help` lists it; its module is imported only when it runs. */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

// Loading on demand keeps each process to the code it runs: a sidecar never loads the control plane, the webhook
// or the CLI's clients, which cut its start-up time and resident memory (see bench/README.md).
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'sidecar', summary: 'run the data-plane proxy beside one app', load: async () => (await import('./commands/sidecar.ts')).sidecarCommand },
  { name: 'control-plane', summary: 'run a control-plane replica: policy folder → signed snapshots over gossip', load: async () => (await import('./commands/control-plane.ts')).controlPlaneCommand },
  { name: 'validate', summary: 'check policy YAML files and report every error with its line', load: async () => (await import('./commands/validate.ts')).validateCommand },
  { name: 'status', summary: 'show every mesh member and whether its config is in sync', load: async () => (await import('./commands/status.ts')).statusCommand },
  { name: 'explain', summary: 'say what happened to one request: route, attempts, endpoints, why it failed', load: async () => (await import('./commands/explain.ts')).explainCommand },
  { name: 'keygen', summary: 'create the signing key pair and gossip key for a mesh', load: async () => (await import('./commands/keygen.ts')).keygenCommand },
  { name: 'wait-ready', summary: "wait until a sidecar is ready (the injector's postStart hook in container mode)", load: async () => (await import('./commands/wait-ready.ts')).waitReadyCommand },
  { name: 'inject', summary: 'add the sidecar to the workloads in Kubernetes YAML (like istioctl kube-inject)', load: async () => (await import('./commands/inject.ts')).injectCommand },
];
