/**
 * Injectable time and randomness for the BGP FSM, sessions and speaker, so tests can run them deterministically.
 * @module
 */

import type { Clock, TimerHandle } from '@ingot/net';

/**
 * The clock, timer handle, random source, `systemClock` (unref'd timers: a BGP timer never keeps the process alive) and
 * `seededRandom` are `@ingot/net`'s, the one clock of the @ingot packages.
 */
export { type Clock, type RandomSource, seededRandom, systemClock, type TimerHandle } from '@ingot/net';

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A manual clock for deterministic tests: time moves only when {@link FakeClock.advance} or {@link FakeClock.runNext}
 * is called, and due timers fire in time order (ties in creation order).
 */
export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<number, FakeTimer>();

  /** @param start the initial value of {@link FakeClock.now}. */
  constructor(start = 0) {
    this.time = start;
  }

  /** @inheritDoc */
  now(): number {
    return this.time;
  }

  /** @inheritDoc */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { id, at: this.time + Math.max(0, ms), fn });
    return id;
  }

  /** @inheritDoc */
  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Number of timers that have not fired or been cleared. */
  get pending(): number {
    return this.timers.size;
  }

  /** Delay from now until the next timer is due, or `undefined` when none is pending. */
  nextDelay(): number | undefined {
    const next = this.peek();
    return next === undefined ? undefined : next.at - this.time;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const next = this.peek();
      if (next === undefined || next.at > end) break;
      this.timers.delete(next.id);
      this.time = next.at;
      next.fn();
    }
    this.time = end;
  }

  /** Jumps to the next pending timer and fires it. Returns false when none is pending. */
  runNext(): boolean {
    const next = this.peek();
    if (next === undefined) return false;
    this.advance(next.at - this.time);
    return true;
  }

  private peek(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers.values()) {
      if (best === undefined || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t;
    }
    return best;
  }
}
