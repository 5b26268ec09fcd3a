/**
 * One-shot restartable timers on an injectable {@link Clock}, and the RFC 4271 §10 jitter.
 * @module
 */

import type { Clock, RandomSource, TimerHandle } from './clock.js';

/**
 * Applies RFC 4271 §10 jitter: multiplies `ms` by a random factor uniformly distributed in [0.75, 1.0].
 * @param ms the configured interval
 * @param random the random source
 */
export function jitter(ms: number, random: RandomSource): number {
  return ms * (0.75 + 0.25 * random());
}

/** A named one-shot timer that can be (re)started and stopped; firing calls the callback given at construction. */
export class Timer {
  private handle: TimerHandle | undefined;
  private dueAt: number | undefined;

  /**
   * @param name the timer's name, for logs and tests
   * @param clock the clock to schedule on
   * @param onExpire called when the timer fires
   */
  constructor(
    readonly name: string,
    private readonly clock: Clock,
    private readonly onExpire: () => void,
  ) {}

  /** Whether the timer is armed. */
  get running(): boolean {
    return this.handle !== undefined;
  }

  /** Milliseconds until the timer fires, or `undefined` when stopped. */
  get remaining(): number | undefined {
    return this.dueAt === undefined ? undefined : Math.max(0, this.dueAt - this.clock.now());
  }

  /** (Re)starts the timer to fire after `ms` milliseconds, cancelling any earlier schedule. */
  start(ms: number): void {
    this.stop();
    this.dueAt = this.clock.now() + ms;
    this.handle = this.clock.setTimeout(() => {
      this.handle = undefined;
      this.dueAt = undefined;
      this.onExpire();
    }, ms);
  }

  /** Stops the timer; a no-op when it is not running. */
  stop(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
    this.dueAt = undefined;
  }
}
