/** Exponential backoff settings (delays double from `initialMs` up to `maxMs`). */
export interface BackoffOptions {
  /** First delay. @default 200 */
  initialMs?: number;
  /** Longest delay. @default 30000 */
  maxMs?: number;
}

/** The delay before retry number `attempt` (0-based): `initialMs * 2^attempt`, capped at `maxMs`. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 200;
  const max = options.maxMs ?? 30_000;
  return Math.min(max, initial * 2 ** Math.min(attempt, 30));
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
