import { ConfigError } from './errors.js';

/** Why {@link ReplayWindow.check} refused a sealed packet. */
export type ReplayVerdict = 'ok' | 'stale' | 'replayed';

/** Options of {@link ReplayWindow}. */
export interface ReplayWindowOptions {
  /** A sealed packet is accepted while its timestamp is within ± this many ms of the receiver's clock. Default 30 000. */
  windowMs?: number;
  /** Most nonces remembered; beyond, the oldest are forgotten and packets as old as them are refused. Default 16 384. */
  maxEntries?: number;
}

/**
 * Replay protection for sealed packets: each carries its send time inside the authenticated data and a random nonce.
 * A packet is refused when its time is outside ± `windowMs` of the receiver's clock (`stale`), or when its nonce was
 * already accepted within the window (`replayed`). Memory is bounded: at most `maxEntries` nonces are kept; when more
 * arrive within one window the oldest are dropped and the floor rises, so anything as old as a forgotten nonce is refused
 * too (never accepted twice). Only authenticated packets are recorded, so an attacker without the key cannot fill it.
 */
export class ReplayWindow {
  /** The tolerance in ms (clock skew between members must stay below it). */
  readonly windowMs: number;
  /** The most nonces kept. */
  readonly maxEntries: number;
  private readonly seen = new Map<string, number>();
  private floor = Number.NEGATIVE_INFINITY;
  private lastPrune = Number.NEGATIVE_INFINITY;

  /**
   * @param options - window and memory bound
   * @throws {@link ConfigError} on a non-positive window or bound
   */
  constructor(options: ReplayWindowOptions = {}) {
    this.windowMs = options.windowMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 16_384;
    if (!(Number.isFinite(this.windowMs) && this.windowMs > 0)) throw new ConfigError('replayWindowMs', 'must be > 0');
    if (!(Number.isInteger(this.maxEntries) && this.maxEntries >= 16))
      throw new ConfigError('maxEntries', 'must be an integer >= 16');
  }

  /** Nonces currently remembered. */
  get size(): number {
    return this.seen.size;
  }

  /**
   * Is a packet sent at `sentAt` fresh at `now`? Cheap; call it before decrypting.
   * @returns `ok` or `stale`
   */
  fresh(sentAt: number, now: number): 'ok' | 'stale' {
    return Math.abs(now - sentAt) <= this.windowMs && sentAt > this.floor ? 'ok' : 'stale';
  }

  /**
   * Checks an authenticated packet and records its nonce when accepted.
   * @param sentAt - the timestamp it carries (ms)
   * @param nonce - its nonce (any string unique per packet)
   * @param now - the receiver's clock (ms, same scale as `sentAt`)
   */
  check(sentAt: number, nonce: string, now: number): ReplayVerdict {
    if (this.fresh(sentAt, now) !== 'ok') return 'stale';
    if (this.seen.has(nonce)) return 'replayed';
    this.prune(now);
    this.seen.set(nonce, sentAt);
    while (this.seen.size > this.maxEntries) {
      const oldest = this.seen.entries().next().value as [string, number];
      this.seen.delete(oldest[0]);
      this.floor = Math.max(this.floor, oldest[1]);
    }
    return 'ok';
  }

  /** Forgets nonces that are outside the window anyway (at most once per tenth of a window). */
  private prune(now: number): void {
    if (now - this.lastPrune < this.windowMs / 10) return;
    this.lastPrune = now;
    const cutoff = now - this.windowMs;
    for (const [nonce, t] of this.seen) if (t < cutoff) this.seen.delete(nonce);
  }
}
