import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseFlags, type FlagSpec } from './options.ts';

/** Where a command writes: `out` for its results, `err` for diagnostics about the invocation itself. One line per call. */
export interface CommandIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** A subcommand of `outrigger`. `run` resolves to the process exit code: 0 success, 1 failure, 2 usage error. */
export interface Command {
  name: string;
  usage: string;
  run(args: string[], io: CommandIO): Promise<number>;
}

/** A usage error: what is wrong and where to find help, on stderr. Returns the exit code, 2. */
export function usageError(io: CommandIO, command: string, message: string): number {
  io.err(`outrigger ${command}: ${message}`);
  io.err(`run "outrigger ${command} --help" for usage`);
  return 2;
}

/**
 * Parses a command's flags with `util.parseArgs`, answering the two cases every command answers the same way itself:
 * a malformed flag (usage error) and `--help` (the usage text). A number is the exit code to return at once.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(io: CommandIO, command: Pick<Command, 'name' | 'usage'>, config: T): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    return usageError(io, command.name, (error as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.out(command.usage);
    return 0;
  }
  return parsed;
}

/** `parseCommandArgs` for flags declared as FlagSpecs (each with its environment variable and default). */
export function parseCommandFlags(io: CommandIO, command: Pick<Command, 'name' | 'usage'>, args: string[], specs: Record<string, FlagSpec>): ReturnType<typeof parseFlags> | number {
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags(args, specs);
  } catch (error) {
    return usageError(io, command.name, (error as Error).message);
  }
  if (flags.help) {
    io.out(command.usage);
    return 0;
  }
  return flags;
}
