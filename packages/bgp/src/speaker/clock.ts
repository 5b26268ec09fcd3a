/**
 * Injectable time and randomness for the BGP FSM, sessions and speaker, so tests can run them deterministically.
 * @module
 */

/** An opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** The source of time the speaker uses. Production uses {@link systemClock}; tests use {@link FakeClock}. */
export interface Clock {
  /** Milliseconds since an arbitrary, monotonic origin. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer created by {@link Clock.setTimeout}; a no-op for an expired or unknown handle. */
  clearTimeout(handle: TimerHandle): void;
}

/** A source of uniformly distributed numbers in [0, 1), like `Math.random`. */
export type RandomSource = () => number;

/** The real clock: `performance.now()` and unref'd Node timers (a BGP timer never keeps the process alive). */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

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

/**
 * A deterministic pseudo-random source (mulberry32) for tests.
 * @param seed any 32-bit integer
 */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
