import { type Clock, systemClock } from '@ingot/net';

/**
 * A clock and one-shot timers, injectable so tests of burst timing run on fake time: `@ingot/net`'s `Clock`, the one
 * clock interface of the @ingot packages.
 */
export type Timers = Clock;

/**
 * The real clock (`performance.now()`) and Node timers (`@ingot/net`'s `systemClock`); timers are `unref`'d so a
 * responder alone does not keep a process alive (its sockets do).
 */
export const systemTimers: Timers = systemClock;

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
