/** A clock and one-shot timers, injectable so tests of burst timing run on fake time. */
export interface Timers {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds; returns a handle for {@link Timers.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a pending timer (no-op for fired or unknown handles). */
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock (`performance.now()`) and Node timers; timers are `unref`'d so a responder alone does not keep a
 * process alive (its sockets do).
 */
export const systemTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Structured log entry emitted through a responder's `log` option. */
export interface LogEntry {
  /** Severity. */
  level: 'debug' | 'info' | 'warn' | 'error';
  /** Constant message; details are in the other fields. */
  msg: string;
  /** Extra fields (interface, ip, error code...). */
  [field: string]: unknown;
}

/** A sink for {@link LogEntry} records, e.g. `(e) => console.log(JSON.stringify(e))` or a pino logger adapter. */
export type Logger = (entry: LogEntry) => void;
