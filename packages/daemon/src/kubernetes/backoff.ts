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

/** The HTTP status of an API error, when it has one (`ApiException` carries `code`, the watch's errors `statusCode`). */
export function statusCodeOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown } | undefined;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return typeof e?.code === 'number' ? e.code : undefined;
}

/**
 * The delay an API error's `Retry-After` header asks for, in milliseconds (seconds or an HTTP date; capped at
 * `maxMs`), or undefined when it has none. The API server sends it with `429 Too Many Requests` (API Priority and
 * Fairness, max-in-flight) and with some `5xx` answers.
 */
export function retryAfterMs(err: unknown, now = Date.now(), maxMs = 60_000): number | undefined {
  const headers = (err as { headers?: unknown } | undefined)?.headers;
  if (!headers || typeof headers !== 'object') return undefined;
  const entry = Object.entries(headers as Record<string, unknown>).find(([k]) => k.toLowerCase() === 'retry-after');
  const value = Array.isArray(entry?.[1]) ? entry?.[1][0] : entry?.[1];
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.max(0, Math.min(maxMs, ms));
}

/** Options of {@link retryTransient}. */
export interface RetryTransientOptions {
  /** Attempts in all, the first included. @default 5 */
  attempts?: number;
  /** Delays after a 5xx without `Retry-After` (and after a 429 without it). @default 200 ms doubling to 5 s */
  retry?: BackoffOptions;
  /** Waits (injectable for tests). @default {@link sleep} */
  sleep?: (ms: number) => Promise<void>;
  /** Called before each wait with the error and the delay chosen. */
  onRetry?: (err: unknown, delayMs: number) => void;
}

/** Socket errors after which a request is worth repeating (a kept-alive connection the server closed meanwhile). */
const RETRIED_SOCKET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED']);

/**
 * Runs `fn`, again after `429 Too Many Requests` (after the `Retry-After` the server asked for, else backoff), after a
 * `5xx` (after its `Retry-After` or backoff), and after a reset or refused connection (backoff), as client-go's
 * request retries do; any other error, or the last attempt's, is thrown. Bounded: at most `attempts` calls.
 */
export async function retryTransient<T>(fn: () => Promise<T>, options: RetryTransientOptions = {}): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 5);
  const wait = options.sleep ?? sleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const status = statusCodeOf(err);
      const socket = (err as { code?: unknown } | undefined)?.code;
      const transient =
        status === 429 ||
        (status !== undefined && status >= 500 && status <= 599) ||
        (typeof socket === 'string' && RETRIED_SOCKET_ERRORS.has(socket));
      if (!transient || attempt + 1 >= attempts) throw err;
      const delay = retryAfterMs(err) ?? backoffDelay(attempt, { initialMs: 200, maxMs: 5_000, ...options.retry });
      options.onRetry?.(err, delay);
      await wait(delay);
    }
  }
}
