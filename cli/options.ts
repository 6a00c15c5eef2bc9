import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

export interface FlagSpec {
  type: 'string' | 'boolean';
  /** Environment variable that sets the flag when it is not given, e.g. `OUTRIGGER_SERVICE`. */
  env?: string;
  default?: string | boolean;
  description: string;
  placeholder?: string;
}

/** Parses flags with their `OUTRIGGER_*` environment fallbacks; throws a message naming the bad flag. */
export function parseFlags(args: string[], specs: Record<string, FlagSpec>, env: NodeJS.ProcessEnv = process.env): Record<string, string | boolean | undefined> {
  const config: ParseArgsOptionsConfig = {};
  for (const [name, spec] of Object.entries(specs)) config[name] = { type: spec.type };
  config.help = { type: 'boolean', short: 'h' };
  const { values } = parseArgs({ args, options: config, allowPositionals: false, strict: true });
  const out: Record<string, string | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const given = values[name];
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (typeof given === 'string' || typeof given === 'boolean') out[name] = given;
    else if (fromEnv !== undefined && fromEnv !== '') out[name] = spec.type === 'boolean' ? /^(1|true|yes)$/i.test(fromEnv) : fromEnv;
    else out[name] = spec.default;
  }
  out.help = values.help === true;
  return out;
}

/** Usage text listing each flag, its environment variable and default. */
export function describeFlags(specs: Record<string, FlagSpec>): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const left = `  --${name}${spec.type === 'string' ? ` ${spec.placeholder ?? 'VALUE'}` : ''}`;
    const extras = [spec.env ? `env ${spec.env}` : '', spec.default !== undefined && spec.default !== false ? `default ${String(spec.default)}` : '']
      .filter(Boolean)
      .join(', ');
    return `${left.padEnd(30)} ${spec.description}${extras ? ` (${extras})` : ''}`;
  });
  return rows.join('\n');
}

export function parsePort(value: string | boolean | undefined, flag: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--${flag} must be a port number 0–65535, got "${String(value)}"`);
  return port;
}

export function parseHostPort(value: string | boolean | undefined, flag: string): string {
  if (typeof value !== 'string' || !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/.test(value)) {
    throw new Error(`--${flag} must be HOST:PORT, e.g. 127.0.0.1:8080, got "${String(value ?? '')}"`);
  }
  parsePort(value.slice(value.lastIndexOf(':') + 1), flag);
  return value;
}

/** The operational-log flags every long-running command takes. */
export const LOG_FLAGS: Record<string, FlagSpec> = {
  'log-level': { type: 'string', env: 'OUTRIGGER_LOG_LEVEL', default: 'info', description: 'debug, info, warn or error', placeholder: 'LEVEL' },
  'log-format': { type: 'string', env: 'OUTRIGGER_LOG_FORMAT', default: 'text', description: 'text or json', placeholder: 'FORMAT' },
};

export function parseLogFlags(flags: Record<string, string | boolean | undefined>): { logLevel: 'debug' | 'info' | 'warn' | 'error'; logFormat: 'text' | 'json' } {
  const logLevel = String(flags['log-level']);
  if (logLevel !== 'debug' && logLevel !== 'info' && logLevel !== 'warn' && logLevel !== 'error') throw new Error(`--log-level must be debug, info, warn or error, got "${logLevel}"`);
  const logFormat = String(flags['log-format']);
  if (logFormat !== 'text' && logFormat !== 'json') throw new Error(`--log-format must be text or json, got "${logFormat}"`);
  return { logLevel, logFormat };
}

/** Runs until SIGINT or SIGTERM, then `close()` (a drain, for a sidecar) before resolving. */
export function untilSignal(close: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
