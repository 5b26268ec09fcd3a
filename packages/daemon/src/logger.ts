import { isatty } from 'node:tty';
import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';

/** Severity of a log record, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * How records are written: `json` (one JSON object per line), `pretty` (one human-readable line per record), or `auto`
 * (pretty when the destination is a terminal and no `write` function is given, JSON otherwise).
 */
export type LogFormat = 'json' | 'pretty' | 'auto';

/**
 * A structured logger. In JSON format every record is one line `{"level":"info","ts":"<ISO 8601>","component":"ingot.x",
 * ...fields,"msg":"..."}` (MetalLB's go-kit names for level, ts and msg).
 */
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
  /** Output format. @default 'auto' */
  format?: LogFormat;
  /** Which standard stream receives the records when `write` is not given. @default 'stderr' */
  destination?: 'stdout' | 'stderr';
  /** Receives each record as one line without its trailing newline, instead of `destination` (tests, embedding). */
  write?: (line: string) => void;
  /** Colours in the pretty format. @default true when the destination is a terminal and $NO_COLOR is unset */
  color?: boolean;
  /** Clock for the `ts` field. @default Date.now */
  now?: () => number;
  /** Component name of the root logger. @default 'ingot' */
  component?: string;
}

/** Keys the record itself carries; a field with one of these names is dropped so that it cannot shadow them. */
const RESERVED = new Set(['level', 'ts', 'time', 'msg', 'component']);

/** Creates a structured logger on pino: JSON lines, or human-readable lines on a terminal. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const fd = options.destination === 'stdout' ? 1 : 2;
  const write = options.write;
  const tty = !write && isatty(fd);
  const format = options.format ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && tty);
  const color = options.color ?? (tty && !process.env.NO_COLOR);
  const now = options.now ?? Date.now;

  let stream: DestinationStream;
  if (write) {
    stream = { write: (chunk) => write(pretty ? prettyLine(chunk, color) : chunk.replace(/\n$/, '')) };
  } else {
    // Synchronous writes: a record logged just before process.exit() is never lost, and no worker thread is involved.
    const out = pino.destination({ fd, sync: true });
    stream = pretty ? { write: (chunk) => out.write(`${prettyLine(chunk, color)}\n`) } : out;
  }

  const root = pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      messageKey: 'msg',
      timestamp: () => `,"ts":"${new Date(now()).toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );

  const make = (component: string): Logger => {
    const p: PinoLogger = root.child({ component });
    const log = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
      if (!p.isLevelEnabled(level)) return;
      if (fields) p[level](normalizeFields(fields), '%s', msg);
      else p[level]('%s', msg);
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

function normalizeFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) {
    if (!RESERVED.has(key)) out[key] = plain(fields[key], 0);
  }
  return out;
}

/** Makes a field value JSON-friendly: bigints as decimal strings, errors as { name, message }, nested too. */
function plain(value: unknown, depth: number): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (depth >= 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = plain(value[i], depth + 1);
      if (v !== value[i]) {
        copy ??= value.slice();
        copy[i] = v;
      }
    }
    return copy ?? value;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [k, v0] of Object.entries(value)) {
    const v = plain(v0, depth + 1);
    if (v !== v0) {
      copy ??= { ...(value as Record<string, unknown>) };
      copy[k] = v;
    }
  }
  return copy ?? value;
}

const LEVEL_STYLE: Record<string, { label: string; color: string }> = {
  debug: { label: 'DEBUG', color: '\x1b[90m' },
  info: { label: 'INFO ', color: '\x1b[32m' },
  warn: { label: 'WARN ', color: '\x1b[33m' },
  error: { label: 'ERROR', color: '\x1b[31m' },
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
const BARE = /^[^\s"=\\\x00-\x1f]+$/;

/**
 * Formats one JSON record as `<ts> <LEVEL> <component>: <msg> key=value ...`: strings without spaces, quotes or `=`
 * bare, everything else as JSON.
 */
export function prettyLine(jsonLine: string, color = false): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine.replace(/\n$/, '');
  }
  const { level, ts, component, msg, ...fields } = record;
  const style = LEVEL_STYLE[String(level)] ?? { label: String(level).toUpperCase(), color: '' };
  const levelText = color ? `${style.color}${style.label}${RESET}` : style.label;
  const componentText = color ? `${DIM}${String(component)}:${RESET}` : `${String(component)}:`;
  let line = `${String(ts)} ${levelText} ${componentText} ${String(msg)}`;
  for (const [key, value] of Object.entries(fields)) {
    const text = typeof value === 'string' && BARE.test(value) ? value : JSON.stringify(value);
    line += color ? ` ${DIM}${key}=${RESET}${text}` : ` ${key}=${text}`;
  }
  return line;
}
