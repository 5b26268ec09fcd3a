import type { HeartbeatFrame } from './frame.js';

/** Timing of a {@link PairWatcher}; all in ms. */
export interface PairWatcherOptions {
  /** The send interval h: owners send one heartbeat per interval, and the watcher is ticked once per interval. */
  intervalMs: number;
  /** k: an owner is silent after k intervals without a heartbeat; then the watcher probes it. */
  missLimit: number;
  /** How long the confirmation round (direct probes) waits for an answer before the owner counts as lost. */
  confirmMs: number;
  /** Interval between probes within the confirmation round. */
  probeEveryMs: number;
  /**
   * Upper bound of the adaptive silence limit. Absent: the limit is fixed at `missLimit` intervals. Present: an
   * owner is silent after `max(missLimit × intervalMs, 2 × the longest gap heard from it lately)`, at most this
   * much (see {@link PairWatcher}).
   */
  maxSilenceMs?: number;
  /** How long a heard gap widens the limit: one to two of these windows. @default 30000 */
  gapWindowMs?: number;
}

/** The longest gaps heard from one owner in the current and the previous window (for the adaptive silence limit). */
interface RecentGaps {
  /** Start of the current window. */
  start: number;
  /** Longest gap heard in the current window. */
  max: number;
  /** Longest gap heard in the previous window. */
  previous: number;
}

/**
 * The watcher's view of one owner (discriminated on `kind`): `waiting` until its first heartbeat (never declared
 * lost: an owner that has not started sending is not watched yet), `watching`, `confirming` (silent for k intervals:
 * probing it), `lost` (silent and unanswered: its IPs are taken over until it is heard again).
 */
export type OwnerState =
  | { kind: 'waiting' }
  | { kind: 'watching'; lastAt: number; boot: number; seq: number }
  | {
      kind: 'confirming';
      lastAt: number;
      boot: number;
      seq: number;
      nonce: number;
      deadline: number;
      nextProbeAt: number;
    }
  | { kind: 'lost'; boot: number; seq: number; nonce: number; since: number };

/** What a {@link PairWatcher} asks its runner to do. */
export type WatcherAction =
  | { kind: 'probe'; owner: string; nonce: number }
  | { kind: 'lost'; owner: string; silentMs: number }
  | { kind: 'recovered'; owner: string; lostMs: number };

/** Counters of a {@link PairWatcher}. */
export interface PairWatcherStats {
  /** Heartbeats accepted. */
  heartbeats: number;
  /** Heartbeats missing inside sequence jumps (lost on the way, not a stalled sender). */
  seqGaps: number;
  /** Frames refused as replayed or older than the newest accepted (same boot, sequence not growing; older boot). */
  stale: number;
  /** Ticks that came more than one interval late (this thread was stalled): the miss count restarted. */
  lateTicks: number;
  /** Confirmation rounds started. */
  confirmations: number;
  /** Confirmation rounds that an answer or a heartbeat cancelled. */
  confirmedAlive: number;
  /** Owners declared lost. */
  lost: number;
  /** Lost owners heard again. */
  recovered: number;
}

/**
 * The successor's side of the per-pair heartbeat: a pure state machine over owner ids, driven by {@link PairWatcher.tick}
 * (once per interval) and {@link PairWatcher.receive}, with the time passed in (no clock, no timers, no randomness
 * of its own: the probe nonce comes from the caller's seed). Refers to nothing outside itself (the heartbeat thread
 * runs its source text).
 *
 * Rules: an owner is silent after `missLimit` intervals without a heartbeat; the watcher then probes it directly for
 * `confirmMs` and declares it lost only if neither an ack nor a heartbeat arrives. A tick more than one interval late
 * (the watcher's own thread was stalled) does not count the stalled time as silence: the miss count and the probe
 * deadline move on by the lateness (the runner reads the datagrams that arrived meanwhile before it ticks). Sequence numbers must grow within a boot (replays are dropped); a jump means
 * datagrams were lost, a +1 after a gap means the sender stalled: both count as heard.
 *
 * Adaptive silence limit (with `maxSilenceMs`): every gap heard from an owner (the time since the frame before, a
 * probe round answered included) is remembered for one to two `gapWindowMs` windows, and the owner is silent only
 * after twice the longest of them, never less than `missLimit` intervals nor more than `maxSilenceMs`. On a healthy
 * path at 10 % loss the gaps stay at a few intervals and the limit at `missLimit`; on an overloaded machine, where a
 * sender, the kernel or this thread stalls for tens of ms, the limit widens before such a stall can pass for a death,
 * and narrows again a window after the stalls end (the same idea as the phi-accrual detectors of Cassandra and Akka,
 * with the distribution reduced to its recent maximum).
 */
export class PairWatcher {
  // Fields are assigned in the constructor, not initialised in place: the thread runs this class's source text, and
  // a bundler may lower field initialisers to helpers that exist only in the bundle.
  private readonly owners: Map<string, OwnerState>;
  private readonly gaps: Map<string, RecentGaps>;
  private lastTick: number | undefined;
  private nonce: number;
  private readonly options: PairWatcherOptions;
  /** Counters since creation. */
  readonly stats: PairWatcherStats;

  /** Counters all at zero: a new watcher's, and what a heartbeat thread reports before its first snapshot. */
  static emptyStats(): PairWatcherStats {
    return {
      heartbeats: 0,
      seqGaps: 0,
      stale: 0,
      lateTicks: 0,
      confirmations: 0,
      confirmedAlive: 0,
      lost: 0,
      recovered: 0,
    };
  }

  /**
   * @param options - timing
   * @param nonceSeed - first probe nonce (e.g. random), incremented per confirmation round
   */
  constructor(options: PairWatcherOptions, nonceSeed = 1) {
    this.options = options;
    this.owners = new Map();
    this.gaps = new Map();
    this.lastTick = undefined;
    this.nonce = nonceSeed >>> 0;
    this.stats = PairWatcher.emptyStats();
  }

  /**
   * Sets the owners to watch: new ones start `waiting`, the rest keep their state, missing ones are forgotten.
   * @param ids - owner sender ids
   */
  watch(ids: Iterable<string>): void {
    const keep = new Set(ids);
    for (const id of [...this.owners.keys()])
      if (!keep.has(id)) {
        this.owners.delete(id);
        this.gaps.delete(id);
      }
    for (const id of keep) if (!this.owners.has(id)) this.owners.set(id, { kind: 'waiting' });
  }

  /**
   * How long `id` must be silent before it is probed, as of `now`: `missLimit` intervals, or with `maxSilenceMs`
   * twice the longest gap heard from it in the last one to two windows, within `[missLimit intervals, maxSilenceMs]`.
   */
  silenceLimit(id: string, now: number): number {
    const { intervalMs, missLimit, maxSilenceMs } = this.options;
    const base = missLimit * intervalMs;
    if (maxSilenceMs === undefined) return base;
    const g = this.gaps.get(id);
    if (g === undefined) return base;
    const age = now - g.start;
    const windowMs = this.options.gapWindowMs ?? 30_000;
    const longest = age >= 2 * windowMs ? 0 : age >= windowMs ? g.max : Math.max(g.max, g.previous);
    return Math.min(Math.max(maxSilenceMs, base), Math.max(base, 2 * longest));
  }

  /** The largest {@link PairWatcher.silenceLimit} over the watched owners (0 when none). */
  widestSilenceLimit(now: number): number {
    let widest = 0;
    for (const id of this.owners.keys()) widest = Math.max(widest, this.silenceLimit(id, now));
    return widest;
  }

  private rememberGap(id: string, gap: number, now: number): void {
    if (this.options.maxSilenceMs === undefined) return;
    const windowMs = this.options.gapWindowMs ?? 30_000;
    let g = this.gaps.get(id);
    if (g === undefined || now - g.start >= 2 * windowMs) g = { start: now, max: 0, previous: 0 };
    else if (now - g.start >= windowMs) g = { start: now, max: 0, previous: g.max };
    this.gaps.set(id, { ...g, max: Math.max(g.max, gap) });
  }

  /** The state of one owner (undefined when not watched). */
  state(id: string): OwnerState | undefined {
    return this.owners.get(id);
  }

  /**
   * Handles a decoded frame from a watched owner (heartbeat, or ack to a probe); others are ignored.
   * @param frame - the frame
   * @param now - the receive time (ms, monotonic)
   * @returns a `recovered` action when a lost owner is heard again
   */
  receive(frame: HeartbeatFrame, now: number): WatcherAction[] {
    const st = this.owners.get(frame.sender);
    if (st === undefined) return [];
    if (frame.type === 'ack') {
      if (st.kind === 'confirming' && frame.seq === st.nonce) {
        this.stats.confirmedAlive++;
        this.rememberGap(frame.sender, now - st.lastAt, now);
        this.owners.set(frame.sender, { kind: 'watching', lastAt: now, boot: st.boot, seq: st.seq });
        return [];
      }
      if (st.kind === 'lost' && frame.seq === st.nonce) return this.recover(frame.sender, st, now, st.boot, st.seq);
      this.stats.stale++;
      return [];
    }
    if (frame.type !== 'heartbeat') return [];
    if (st.kind !== 'waiting') {
      if (frame.boot < st.boot || (frame.boot === st.boot && frame.seq <= st.seq)) {
        this.stats.stale++;
        return [];
      }
      if (frame.boot === st.boot && frame.seq > st.seq + 1) this.stats.seqGaps += frame.seq - st.seq - 1;
    }
    this.stats.heartbeats++;
    if (st.kind === 'watching' || st.kind === 'confirming') this.rememberGap(frame.sender, now - st.lastAt, now);
    if (st.kind === 'lost') return this.recover(frame.sender, st, now, frame.boot, frame.seq);
    if (st.kind === 'confirming') this.stats.confirmedAlive++;
    this.owners.set(frame.sender, { kind: 'watching', lastAt: now, boot: frame.boot, seq: frame.seq });
    return [];
  }

  private recover(
    id: string,
    st: Extract<OwnerState, { kind: 'lost' }>,
    now: number,
    boot: number,
    seq: number,
  ): WatcherAction[] {
    this.stats.recovered++;
    this.owners.set(id, { kind: 'watching', lastAt: now, boot, seq });
    return [{ kind: 'recovered', owner: id, lostMs: now - st.since }];
  }

  /**
   * Judges every owner; call once per interval, after the datagrams that arrived meanwhile were handed to
   * {@link PairWatcher.receive}.
   * @param now - the tick time (ms, monotonic)
   * @returns probes to send and owners lost
   */
  tick(now: number): WatcherAction[] {
    const { intervalMs, confirmMs, probeEveryMs } = this.options;
    const lateBy = this.lastTick === undefined ? 0 : now - this.lastTick - intervalMs;
    this.lastTick = now;
    const actions: WatcherAction[] = [];
    if (lateBy > intervalMs) {
      // This thread did not run for `lateBy` ms: that time says nothing about the owners (their datagrams of that time
      // were read just before this tick). It is not counted: the silence before the stall still is.
      this.stats.lateTicks++;
      for (const [id, st] of this.owners) {
        if (st.kind === 'watching') this.owners.set(id, { ...st, lastAt: Math.min(now, st.lastAt + lateBy) });
        else if (st.kind === 'confirming')
          this.owners.set(id, { ...st, lastAt: Math.min(now, st.lastAt + lateBy), deadline: st.deadline + lateBy });
      }
    }
    for (const [id, st] of this.owners) {
      if (st.kind === 'watching' && now - st.lastAt >= this.silenceLimit(id, now)) {
        this.stats.confirmations++;
        this.nonce = (this.nonce + 1) >>> 0;
        this.owners.set(id, {
          kind: 'confirming',
          lastAt: st.lastAt,
          boot: st.boot,
          seq: st.seq,
          nonce: this.nonce,
          deadline: now + confirmMs,
          nextProbeAt: now + probeEveryMs,
        });
        actions.push({ kind: 'probe', owner: id, nonce: this.nonce });
      } else if (st.kind === 'confirming') {
        if (now >= st.deadline) {
          this.stats.lost++;
          this.owners.set(id, { kind: 'lost', boot: st.boot, seq: st.seq, nonce: st.nonce, since: now });
          actions.push({ kind: 'lost', owner: id, silentMs: now - st.lastAt });
        } else if (now >= st.nextProbeAt) {
          this.owners.set(id, { ...st, nextProbeAt: now + probeEveryMs });
          actions.push({ kind: 'probe', owner: id, nonce: st.nonce });
        }
      }
    }
    return actions;
  }
}
