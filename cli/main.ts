import type { Command } from './command.ts';
import { controlPlaneCommand } from './commands/control-plane.ts';
import { explainCommand } from './commands/explain.ts';
import { injectCommand } from './commands/inject.ts';
import { sidecarCommand } from './commands/sidecar.ts';
import { keygenCommand } from './commands/keygen.ts';
import { statusCommand } from './commands/status.ts';
import { validateCommand } from './commands/validate.ts';

const COMMANDS: Command[] = [sidecarCommand, controlPlaneCommand, validateCommand, statusCommand, explainCommand, keygenCommand, injectCommand];

const io = { out: (line: string) => process.stdout.write(`${line}\n`), err: (line: string) => process.stderr.write(`${line}\n`) };

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `outrigger — a lightweight service mesh

Usage: outrigger <command> [flags]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run "outrigger <command> --help" for a command's flags.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`outrigger: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return command.run(rest, io);
}

export async function run(argv: string[]): Promise<number> {
  return main(argv);
}
