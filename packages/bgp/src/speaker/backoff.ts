/**
 * Exponential reconnect backoff with jitter (the RFC 4271 §8.1.1 IdleHoldTimer used for DampPeerOscillations).
 * @module
 */

import type { RandomSource } from './clock.js';

/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** Delay before the first retry after a failure, in ms. Default 1000. */
  initialMs?: number;
  /** Upper bound of the delay, in ms. Default 60000. */
  maxMs?: number;
  /** Growth factor per consecutive failure. Default 2. */
  factor?: number;
}

/**
 * Exponential backoff: after the n-th consecutive failure the delay is `min(maxMs, initialMs * factor^(n-1))`, multiplied
 * by a jitter factor uniformly distributed in [0.75, 1.0] so a fleet of speakers does not reconnect in lockstep.
 * {@link Backoff.reset} after a session has been Established.
 */
export class Backoff {
  private failures = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;

  /**
   * @param random the random source for the jitter
   * @param options delays and growth
   */
  constructor(
    private readonly random: RandomSource,
    options: BackoffOptions = {},
  ) {
    this.initialMs = options.initialMs ?? 1000;
    this.maxMs = options.maxMs ?? 60_000;
    this.factor = options.factor ?? 2;
    if (!(this.initialMs >= 0) || !(this.maxMs >= this.initialMs) || !(this.factor >= 1)) {
      throw new RangeError('backoff: need 0 <= initialMs <= maxMs and factor >= 1');
    }
  }

  /** Number of failures since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  /** Records a failure and returns the delay to wait before the next attempt, in ms. */
  next(): number {
    this.failures++;
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** (this.failures - 1));
    return base * (0.75 + 0.25 * this.random());
  }

  /** Forgets past failures (call once a session is Established). */
  reset(): void {
    this.failures = 0;
  }
}
