/** Operational log lines (not access logs) of every Outrigger process: human text by default, JSON lines with `format: 'json'`. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(component: string, options: { level?: LogLevel; format?: 'text' | 'json'; write?: (line: string) => void } = {}): Logger {
  const min = ORDER[options.level ?? 'info'];
  const json = options.format === 'json';
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (ORDER[level] < min) return;
    if (json) {
      write(JSON.stringify({ time: new Date().toISOString(), level, component, msg: message, ...fields }));
      return;
    }
    const extra = fields ? ` ${Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')}` : '';
    write(`${new Date().toISOString()} ${level.padEnd(5)} ${component}: ${message}${extra}`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
