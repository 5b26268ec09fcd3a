/** Severity of a log record, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A structured logger: every record is one JSON object with `ts`, `level`, `component`, `msg` and fields. */
export interface Logger {
  /** Logs at debug level. */
  debug(msg: string, fields?: Record<string, unknown>): void;
  /** Logs at info level. */
  info(msg: string, fields?: Record<string, unknown>): void;
  /** Logs at warn level. */
  warn(msg: string, fields?: Record<string, unknown>): void;
  /** Logs at error level. */
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `component` (joined with '.') to every record. */
  child(component: string): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Records below this level are dropped. @default 'info' */
  level?: LogLevel;
  /** Where each JSON line goes. @default process.stderr */
  write?: (line: string) => void;
  /** Clock for the `ts` field. @default Date.now */
  now?: () => number;
  /** Component name of the root logger. @default 'ingot' */
  component?: string;
}

/** Creates a JSON-lines logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LEVEL_ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? Date.now;
  const make = (component: string): Logger => {
    const log = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
      if (LEVEL_ORDER[level] < threshold) return;
      write(JSON.stringify({ ts: new Date(now()).toISOString(), level, component, msg, ...fields }, jsonReplacer));
    };
    return {
      debug: (msg, fields) => log('debug', msg, fields),
      info: (msg, fields) => log('info', msg, fields),
      warn: (msg, fields) => log('warn', msg, fields),
      error: (msg, fields) => log('error', msg, fields),
      child: (name) => make(`${component}.${name}`),
    };
  };
  return make(options.component ?? 'ingot');
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
