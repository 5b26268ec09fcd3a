import type { HeartbeatThread } from '../../src/heartbeat/heartbeat-thread.js';

/** The heartbeat address of a thread listening on loopback. */
export const peer = (name: string, t: HeartbeatThread) => ({ name, host: '127.0.0.1', port: t.port });

/** Resolves with the event's arguments, or rejects after `ms` (a generous bound: the protocol's is ~0.15 s). */
export function next<E extends 'lost' | 'recovered' | 'notice'>(t: HeartbeatThread, event: E, ms = 10_000) {
  return new Promise<unknown[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    t.once(event, ((...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args);
    }) as never);
  });
}

/** Polls `check` every 20 ms until it holds; throws after `ms`. */
export async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
