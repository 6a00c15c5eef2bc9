/** Where a command writes: `out` for its results, `err` for diagnostics about the invocation itself. One line per call. */
export interface CommandIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** A subcommand of `outrigger`. `run` resolves to the process exit code: 0 success, 1 failure, 2 usage error. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CommandIO): Promise<number>;
}
