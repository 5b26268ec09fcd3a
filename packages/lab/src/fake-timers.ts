/**
 * A deterministic clock for timing tests: `now`, `setTimeout` and `clearTimeout` as the packages' injectable timer
 * interfaces take them (`@ingot/arp`'s `Timers` and the like, matched structurally), and `advance(ms)` to fire what
 * falls due, in order.
 */
export class FakeTimers {
  private t = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  /** The current fake time, ms. */
  now(): number {
    return this.t;
  }

  /** Runs `fn` once the clock has advanced by `ms`. */
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + ms, fn });
    return id;
  }

  /** Cancels a pending timer. */
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }

  /** Advances time by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.pending) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.pending.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }

  /** Timers still pending. */
  get size(): number {
    return this.pending.size;
  }
}
