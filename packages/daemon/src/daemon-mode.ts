import type { Logger } from './logger.js';

/**
 * One way of running the daemon, as `ingot run` starts it: standalone (a configuration file) or Kubernetes (the API
 * server; controller, speaker or both).
 */
export interface DaemonMode {
  /** Starts the mode; resolves once it runs. */
  start(): Promise<void>;
  /** Re-reads the configuration source (SIGHUP). */
  reload(): void;
  /** Graceful stop: withdraw the announcements, leave the membership, close sockets and servers. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `mode` and runs it as this process: SIGINT and SIGTERM stop it, then `exit(0)`; SIGHUP reloads it.
 * @param exit ends the process (default `process.exit`)
 */
export async function runMode(
  mode: DaemonMode,
  log: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
): Promise<void> {
  await mode.start();
  const stop = async (signal: string) => {
    log.info('ingot stopping', { signal });
    await mode.stop();
    exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => mode.reload());
  // Keeps the process alive even when nothing else holds the event loop (dry run without a status server).
  setInterval(() => log.debug('alive'), 60_000);
}
