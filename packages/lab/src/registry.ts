import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * Process-wide registry of everything the lab created: namespaces, PIDs it started and temp dirs. Whatever is still
 * registered is removed on process exit (including a crash on an uncaught exception), SIGINT and SIGTERM
 * (synchronously: kill PIDs, then `ip netns del`). The registry lives on globalThis so several copies of this module in one process share it.
 */
interface Registry {
  namespaces: Set<string>;
  pids: Set<number>;
  dirs: Set<string>;
  installed: boolean;
}

const KEY = Symbol.for('@ingot/lab/registry');
const holder = globalThis as unknown as Record<symbol, Registry | undefined>;
const registry: Registry = holder[KEY] ?? { namespaces: new Set(), pids: new Set(), dirs: new Set(), installed: false };
holder[KEY] = registry;

/** Remember a namespace for cleanup at exit. */
export function trackNamespace(ns: string): void {
  installHandlers();
  registry.namespaces.add(ns);
}
/** Forget a namespace (after it was deleted). */
export function untrackNamespace(ns: string): void {
  registry.namespaces.delete(ns);
}
/** Remember a PID we started, to kill it at exit. */
export function trackPid(pid: number): void {
  installHandlers();
  registry.pids.add(pid);
}
/** Forget a PID (after it exited). */
export function untrackPid(pid: number): void {
  registry.pids.delete(pid);
}
/** Remember a temp dir to remove at exit. */
export function trackDir(dir: string): void {
  installHandlers();
  registry.dirs.add(dir);
}
/** Forget a temp dir. */
export function untrackDir(dir: string): void {
  registry.dirs.delete(dir);
}
/** Namespaces still registered (for tests and diagnostics). */
export function liveNamespaces(): string[] {
  return [...registry.namespaces];
}
/** PIDs still registered (for tests and diagnostics). */
export function livePids(): number[] {
  return [...registry.pids];
}

/**
 * Synchronously kill every registered PID (SIGKILL) and delete every registered namespace and temp dir. Safe to call
 * more than once. Used by the exit and signal handlers; tests should prefer the async `destroy()` of a topology.
 */
export function cleanupAllSync(): void {
  for (const pid of registry.pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  registry.pids.clear();
  for (const ns of registry.namespaces) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // already gone
    }
  }
  registry.namespaces.clear();
  for (const dir of registry.dirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // ignore
    }
  }
  registry.dirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  cleanupAllSync();
  // Keep the default behaviour (terminate) unless someone else handles the signal too.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function installHandlers(): void {
  if (registry.installed) return;
  registry.installed = true;
  process.on('exit', cleanupAllSync);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // An uncaught exception that nobody handles ends the process through 'exit', which cleans up. One that a test
  // runner catches (vitest reports it and carries on) must not tear down topologies other tests are still using.
}
