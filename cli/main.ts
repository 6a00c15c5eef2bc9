import { COMMANDS } from './command-list.ts';

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
  return (await command.load()).run(rest, io);
}

export async function run(argv: string[]): Promise<number> {
  return main(argv);
}
