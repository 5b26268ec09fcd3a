import type { Clock, TimerHandle } from './clock.js';

/**
 * Lifeguard dynamic suspicion timeout: starts at `max` and shrinks toward `min` as independent confirmations arrive,
 * `timeout(c) = max(min, max - (max - min) * log(c + 1) / log(k + 1))` (memberlist `suspicion.go`). With `k = 0` the
 * timer is `min` straight away.
 */
export function suspicionTimeout(confirmations: number, k: number, minMs: number, maxMs: number): number {
  if (k < 1) return minMs;
  const frac = Math.log(confirmations + 1) / Math.log(k + 1);
  return Math.max(minMs, Math.floor(maxMs - frac * (maxMs - minMs)));
}

/** One running suspicion about one member, counting distinct confirmers. */
export class Suspicion {
  private readonly confirmers = new Set<string>();
  private timer: TimerHandle | undefined;
  private readonly start: number;

  /**
   * @param from - the first accuser (not counted as a confirmation)
   * @param k - confirmations wanted to reach `min`
   * @param minMs - shortest timeout
   * @param maxMs - timeout with no confirmation
   * @param clock - time source
   * @param onTimeout - called once when the timer expires
   */
  constructor(
    from: string,
    private readonly k: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly clock: Clock,
    private readonly onTimeout: () => void,
  ) {
    this.confirmers.add(from);
    this.start = clock.now();
    this.arm();
  }

  /** Distinct confirmations so far (excluding the first accuser). */
  get confirmations(): number {
    return this.confirmers.size - 1;
  }

  private arm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    const total = suspicionTimeout(this.confirmations, this.k, this.minMs, this.maxMs);
    const remaining = Math.max(0, total - (this.clock.now() - this.start));
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.onTimeout();
    }, remaining);
  }

  /**
   * Records an accusation from `from`.
   * @returns true when it was a new, independent confirmation (the timer was shortened)
   */
  confirm(from: string): boolean {
    if (this.confirmers.has(from) || this.timer === undefined) return false;
    this.confirmers.add(from);
    if (this.confirmations <= this.k) this.arm();
    return true;
  }

  /** Stops the timer. */
  cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
