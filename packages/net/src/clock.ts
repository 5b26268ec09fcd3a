/**
 * Time and randomness, injectable: every state machine of the @ingot packages (BGP FSM and sessions, SWIM membership,
 * the ARP/NDP announcement schedule) takes a {@link Clock} and, where it draws jitter, a {@link RandomSource}, so tests
 * run them on fake time with a fixed seed.
 * @module
 */

/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** A monotonic clock and one-shot timers. Production uses {@link systemClock}; tests a fake one. */
export interface Clock {
  /** Milliseconds since an arbitrary, monotonic origin. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer created by {@link Clock.setTimeout}; a no-op for a fired or unknown handle. */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock: `performance.now()` and Node timers. Timers are `unref`'d: a timer alone never keeps a process alive
 * (its sockets and servers do).
 */
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

/** A source of uniformly distributed numbers in [0, 1), like `Math.random`. */
export type RandomSource = () => number;

/**
 * A small, fast, seedable pseudo-random source (sfc32, which passes PractRand) for deterministic simulations and
 * tests. The same seed gives the same sequence on every platform.
 * @param seed - any integer
 * @returns a `() => number` in [0, 1), like `Math.random`
 * @example `const r = seededRandom(7); r() === seededRandom(7)() // true`
 */
export function seededRandom(seed: number): RandomSource {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88;
  let c = 0xb7e15162 ^ (seed * 31);
  let d = 1;
  const next = () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}
