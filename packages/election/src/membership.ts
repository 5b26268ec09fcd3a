/**
 * The SWIM membership façade: the node table, the wire, the transport's packets and the public API. Probing is in
 * `probe.ts`, member state changes (suspicion, alive, dead) in `member-state.ts`, push-pull in `push-pull.ts`, the
 * broadcast queue in `broadcast-queue.ts`. It is longer than ~600 lines because the constructor wires those three
 * collaborators explicitly: each gets the callbacks it may use (its `…Host` interface), never the façade itself.
 */
import { EventEmitter } from 'eventemitter3';
import { Awareness } from './awareness.js';
import { BroadcastQueue } from './broadcast-queue.js';
import { type Clock, systemClock, type TimerHandle } from './clock.js';
import type { Address, AliveMessage, DeadMessage, Labels, Message } from './codec.js';
import { DEFAULT_WIRE, type ProtocolConfig, resolveConfig, retransmitLimit } from './config.js';
import { ConfigError, JoinError } from './errors.js';
import { IngotWire } from './ingot-wire.js';
import { canonicalIp } from './ip.js';
import { MemberState } from './member-state.js';
import { MemberlistWire } from './memberlist/wire.js';
import {
  type ClusterView,
  checkLabels,
  type LogEntry,
  type Member,
  type MembershipEvents,
  type MembershipOptions,
  type MembershipStats,
  type Node,
  type Pending,
  type RejectionReason,
} from './membership-types.js';
import { Prober } from './probe.js';
import { PushPull } from './push-pull.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { ReplayWindow } from './replay-window.js';
import type { Transport } from './transport.js';
import type { GossipWire } from './wire.js';

export {
  type ClusterView,
  type LogEntry,
  MAX_LABEL_BYTES,
  type Member,
  type MembershipEvents,
  type MembershipOptions,
  type MembershipStats,
  type RejectionReason,
} from './membership-types.js';

/**
 * One member of a gossip cluster: SWIM failure detection with the Lifeguard refinements (local health awareness,
 * dynamic suspicion with confirmations, buddy system), piggybacked dissemination, TCP push-pull anti-entropy, graceful
 * leave, encrypted transport. See README for the protocol and its defaults.
 */
export class Membership extends EventEmitter<MembershipEvents> {
  /** The resolved protocol configuration. */
  readonly config: Readonly<ProtocolConfig>;
  /** This member's name. */
  readonly name: string;
  /** Counters (live object). */
  readonly stats: MembershipStats = {
    packetsSent: 0,
    packetsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    authFailures: 0,
    plaintextRejected: 0,
    envelopeRejected: 0,
    staleRejected: 0,
    replayRejected: 0,
    nameConflicts: 0,
    decodeErrors: 0,
    probes: 0,
    probeFailures: 0,
    indirectProbes: 0,
    suspicionsRaised: 0,
    refutations: 0,
    pushPulls: 0,
    pushPullFailures: 0,
  };

  private readonly transport: Transport;
  private readonly wire: GossipWire;
  private readonly clock: Clock;
  private readonly warnings = new RateLimitedLog();
  private readonly random: () => number;
  private readonly logSink: ((e: LogEntry) => void) | undefined;
  private readonly awareness: Awareness;
  private readonly queue = new BroadcastQueue();
  private readonly nodes = new Map<string, Node>();
  private readonly self: Node;
  private readonly pending = new Map<number, Pending>();
  private readonly timers = new Set<TimerHandle>();
  private readonly prober: Prober;
  private readonly state: MemberState;
  private seq: number;
  private started = false;
  private closed = false;
  private leaving = false;
  private eagerGossip = false;
  private sizeHistory: { t: number; n: number }[] = [];
  private readonly seeds: Address[] = [];
  private readonly pushPulls: PushPull;

  /**
   * @param options - name, transport and optional overrides
   * @throws {@link ConfigError} on an invalid option
   */
  constructor(options: MembershipOptions) {
    super();
    const {
      name,
      transport,
      advertise,
      labels,
      keyring,
      clock,
      wallClock,
      random,
      log,
      initialIncarnation,
      wire,
      label,
      compression,
      ...protocol
    } = options;
    if (typeof name !== 'string' || name.length === 0 || new TextEncoder().encode(name).length > 255) {
      throw new ConfigError('name', 'must be 1..255 UTF-8 bytes');
    }
    this.config = resolveConfig(protocol);
    this.name = name;
    this.transport = transport;
    this.clock = clock ?? systemClock;
    const wallNow = wallClock ?? (clock ? () => clock.now() : Date.now);
    this.random = random ?? Math.random;
    this.logSink = log;
    this.awareness = new Awareness(this.config.awarenessMaxMultiplier);
    this.seq = Math.floor(this.random() * 0x7fffffff);
    const addr = advertise ?? transport.address;
    if (addr.host === '0.0.0.0' || addr.host === '::') {
      throw new ConfigError(
        'advertise',
        `the transport is bound to the wildcard ${addr.host}: set advertise to the address other members reach this one at`,
      );
    }
    // memberlist ignores an alive at incarnation 0 for a node it does not know (a new entry starts at 0 and only a
    // higher incarnation replaces it; its own members start at 1), so on its wire a member starts at 1 at least.
    const format = wire ?? DEFAULT_WIRE;
    const inc = Math.max(initialIncarnation ?? 0, format === 'memberlist' ? 1 : 0);
    if (!Number.isInteger(inc) || inc < 0 || inc > 0xfffffff0)
      throw new ConfigError('initialIncarnation', 'must be a u32');
    const address = { host: canonicalIp(addr.host), port: addr.port };
    if (format !== 'memberlist' && format !== 'ingot') {
      throw new ConfigError('wire', "must be 'memberlist' or 'ingot'");
    }
    this.wire =
      format === 'memberlist'
        ? new MemberlistWire({ name, address, keyring, label, compression })
        : new IngotWire(
            keyring,
            keyring ? new ReplayWindow({ windowMs: this.config.replayWindowMs }) : undefined,
            wallNow,
          );
    if (transport.useFraming) transport.useFraming(this.wire.framing);
    else if (
      transport.framing &&
      transport.framing !== this.wire.framing &&
      this.wire.framing.base !== transport.framing
    ) {
      throw new ConfigError('transport', `the transport's stream framing is not the ${this.wire.format} wire's`);
    }
    const initialLabels = checkLabels(labels ?? {});
    this.wire.checkLabels(initialLabels);
    this.self = {
      name,
      address,
      labels: initialLabels,
      incarnation: inc,
      status: 'alive',
      statusSince: this.clock.now(),
    };
    this.nodes.set(name, this.self);
    this.recordSize();
    this.prober = new Prober({
      name,
      config: this.config,
      stats: this.stats,
      self: this.self,
      awareness: this.awareness,
      pending: this.pending,
      node: (n) => this.nodes.get(n),
      isClosed: () => this.closed,
      isLeaving: () => this.leaving,
      isLive: (n) => this.isLive(n),
      others: (f) => this.others(f),
      sample: (c, k) => this.sample(c, k),
      random: () => this.random(),
      nextSeq: () => this.nextSeq(),
      timeout: (fn, ms) => this.timeout(fn, ms),
      verdict: (fn, ms) => this.verdict(fn, ms),
      onSuspect: (m) => this.state.onSuspect(m),
      send: (to, msgs, piggyback) => this.send(to, msgs, piggyback),
    });
    this.state = new MemberState({
      name,
      config: this.config,
      stats: this.stats,
      self: this.self,
      awareness: this.awareness,
      clock: this.clock,
      queue: this.queue,
      prober: this.prober,
      warnings: this.warnings,
      wire: this.wire,
      node: (n) => this.nodes.get(n),
      addNode: (n, node) => {
        this.nodes.set(n, node);
      },
      isClosed: () => this.closed,
      isLeaving: () => this.leaving,
      isLive: (n) => this.isLive(n),
      liveCount: () => this.liveCount(),
      random: () => this.random(),
      timeout: (fn, ms) => this.timeout(fn, ms),
      send: (to, msgs, piggyback) => this.send(to, msgs, piggyback),
      aliveMessage: (n) => this.aliveMessage(n),
      broadcastAlive: (n) => this.broadcastAlive(n),
      gossipSoon: () => this.gossipSoon(),
      recordSize: () => this.recordSize(),
      snapshot: (n) => this.snapshot(n),
      log: (level, msg, fields) => this.log(level, msg, fields),
      emit: (event, member) => {
        this.emit(event, member);
      },
    });
    this.pushPulls = new PushPull({
      name,
      config: this.config,
      stats: this.stats,
      wire: this.wire,
      transport,
      self: this.self,
      seeds: this.seeds,
      nodes: () => this.nodes.values(),
      node: (n) => this.nodes.get(n),
      forget: (n) => {
        this.nodes.delete(n);
        this.queue.invalidateNode(n);
      },
      isClosed: () => this.closed,
      isLeaving: () => this.leaving,
      isLive: (n) => this.isLive(n),
      others: (f) => this.others(f),
      sample: (c, k) => this.sample(c, k),
      liveCount: () => this.liveCount(),
      random: () => this.random(),
      now: () => this.clock.now(),
      onAlive: (m) => this.state.onAlive(m),
      onSuspect: (m) => this.state.onSuspect(m),
      onDead: (m) => this.state.onDead(m),
      send: (to, msgs, piggyback) => this.send(to, msgs, piggyback),
      opened: (o, data, from, via) => this.opened(o, data, from, via),
    });
  }

  /** Starts receiving and the periodic probe, gossip and push-pull loops. Idempotent; `join()` calls it. */
  start(): this {
    if (this.started || this.closed) return this;
    this.started = true;
    this.transport.listen({
      packet: (data, from) => this.onPacket(data, from),
      exchange: (data, from) => this.pushPulls.onExchange(data, from),
    });
    const c = this.config;
    this.every(c.probeIntervalMs, () => this.prober.probeTick());
    this.every(c.gossipIntervalMs, () => this.gossip());
    this.every(c.pushPullIntervalMs, () => this.pushPulls.periodicPushPull(false));
    this.every(c.reconnectIntervalMs, () => this.pushPulls.periodicPushPull(true));
    return this;
  }

  /**
   * Contacts seeds over TCP with a full state exchange. Resolves with how many answered. The seeds are remembered: while
   * this member sees no other live member it retries one of them every `reconnectIntervalMs`, so a member whose join
   * failed (seeds not up yet) joins as soon as one answers. This member's own address is skipped, so every member can be
   * given the same seed list; with no other seed it resolves 0 (a new cluster).
   * @param seeds - addresses of existing members
   * @throws {@link JoinError} when none answered
   */
  join(seeds: readonly Address[]): Promise<number> {
    this.start();
    const me = this.self.address;
    // our own address among the seeds (every node configured with the same list) is skipped
    const isMe = (s: Address) => {
      try {
        return canonicalIp(s.host) === me.host && s.port === me.port;
      } catch {
        return false; // a host name: never us
      }
    };
    const others = seeds.filter((s) => !isMe(s));
    for (const s of others) {
      if (!this.seeds.some((x) => x.host === s.host && x.port === s.port)) this.seeds.push({ ...s });
    }
    seeds = others;
    if (seeds.length === 0) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      let left = seeds.length;
      let ok = 0;
      const errors: Error[] = [];
      for (const seed of seeds) {
        this.pushPulls.pushPull(seed, true, (err) => {
          if (err) errors.push(err);
          else ok++;
          if (--left === 0) {
            if (ok > 0) resolve(ok);
            else reject(new JoinError(`no seed answered (${errors.map((e) => e.message).join('; ')})`, errors));
          }
        });
      }
    });
  }

  /** All known members (this node included), sorted by name, with their status. */
  members(): Member[] {
    return [...this.nodes.values()].map((n) => this.snapshot(n)).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Names of alive and suspect members (this node included): MetalLB's "usable speakers". */
  usableMembers(): string[] {
    return this.members()
      .filter((m) => m.status === 'alive' || m.status === 'suspect')
      .map((m) => m.name);
  }

  /** This node's own entry. */
  get local(): Member {
    return this.snapshot(this.self);
  }

  /** Lifeguard local health score (0 = healthy; probe timeouts are multiplied by score + 1). */
  get healthScore(): number {
    return this.awareness.score;
  }

  /** Alive count against the largest cluster seen within `clusterSizeWindowMs`. */
  clusterView(): ClusterView {
    const now = this.clock.now();
    this.pruneSizes(now);
    let alive = 0;
    let suspect = 0;
    for (const n of this.nodes.values()) {
      if (n.status === 'alive') alive++;
      else if (n.status === 'suspect') suspect++;
    }
    alive += suspect;
    let largest = alive;
    for (const h of this.sizeHistory) largest = Math.max(largest, h.n);
    return {
      alive,
      suspect,
      largestRecent: largest,
      windowMs: this.config.clusterSizeWindowMs,
      hasMajority: alive * 2 > largest,
    };
  }

  /**
   * Replaces this node's labels and disseminates them (raises the incarnation). Others emit `update`.
   * @param labels - new labels (encoded size at most 512 bytes)
   */
  setLabels(labels: Labels): void {
    const checked = checkLabels(labels);
    this.wire.checkLabels(checked);
    this.self.labels = checked;
    this.self.incarnation++;
    this.broadcastAlive();
    this.emit('update', this.snapshot(this.self));
  }

  /**
   * Leaves gracefully: tells every member directly and by gossip, keeps gossiping for `leavePropagationMs`, then
   * resolves. Others see `leave` at once. Call {@link Membership.close} afterwards (or use {@link Membership.stop}).
   */
  leave(): Promise<void> {
    if (this.leaving || this.closed) return Promise.resolve();
    this.leaving = true;
    this.self.status = 'left';
    this.self.statusSince = this.clock.now();
    const msg: DeadMessage = { type: 'dead', incarnation: this.self.incarnation, node: this.name, from: this.name };
    const bytes = this.wire.encode(msg);
    this.queue.invalidateNode(this.name);
    this.queue.push(`state:${this.name}`, this.name, bytes);
    for (const n of this.nodes.values()) {
      if (n !== this.self && (n.status === 'alive' || n.status === 'suspect')) this.sendRaw(n.address, [bytes], false);
    }
    this.gossip();
    return new Promise((resolve) => {
      this.timeout(() => {
        this.gossip();
        resolve();
      }, this.config.leavePropagationMs);
    });
  }

  /** Stops every timer and closes the transport without telling anyone (others will detect a failure). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    for (const n of this.nodes.values()) n.suspicion?.cancel();
    this.pending.clear();
    await this.transport.close();
  }

  /** Graceful stop: {@link Membership.leave} then {@link Membership.close}. */
  async stop(): Promise<void> {
    await this.leave();
    await this.close();
  }

  // ---------------------------------------------------------------- timers

  private timeout(fn: () => void, ms: number): void {
    if (this.closed) return;
    const h = this.clock.setTimeout(() => {
      this.timers.delete(h);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(h);
  }

  /**
   * A timer whose verdict waits one more 0 ms hop: Node runs expired timers before it reads sockets, so after an
   * event-loop stall an ack already sitting in the socket buffer would otherwise lose the race against its own timeout.
   * A timer that fires much later than asked is also evidence that this process is slow: it raises the local health
   * score (Lifeguard), which stretches this member's timeouts.
   */
  private verdict(fn: () => void, ms: number): void {
    const due = this.clock.now() + ms;
    this.timeout(() => {
      if (this.clock.now() - due > this.config.probeTimeoutMs) this.awareness.apply(1);
      this.timeout(fn, 0);
    }, ms);
  }

  private every(ms: number, fn: () => void): void {
    if (ms <= 0) return;
    const tick = () => {
      fn();
      this.timeout(tick, ms);
    };
    // random phase so members do not tick in lockstep
    this.timeout(tick, this.random() * ms);
  }

  private log(level: LogEntry['level'], msg: string, fields: Record<string, unknown> = {}): void {
    this.logSink?.({ level, msg, node: this.name, ...fields });
  }

  // ---------------------------------------------------------------- helpers

  private snapshot(n: Node): Member {
    return {
      name: n.name,
      address: { ...n.address },
      labels: n.labels,
      incarnation: n.incarnation,
      status: n.status,
      statusSince: n.statusSince,
      local: n === this.self,
    };
  }

  private liveCount(): number {
    let c = 0;
    for (const n of this.nodes.values()) if (n.status === 'alive' || n.status === 'suspect') c++;
    return c;
  }

  private recordSize(): void {
    const now = this.clock.now();
    this.sizeHistory.push({ t: now, n: this.liveCount() });
    this.pruneSizes(now);
  }

  private pruneSizes(now: number): void {
    const cutoff = now - this.config.clusterSizeWindowMs;
    while (this.sizeHistory.length > 1 && this.sizeHistory[1]!.t <= cutoff) this.sizeHistory.shift();
    if (this.sizeHistory.length > 512) this.sizeHistory.splice(0, this.sizeHistory.length - 512);
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  private sample(candidates: Node[], k: number): Node[] {
    const a = candidates.slice();
    const out: Node[] = [];
    while (out.length < k && a.length > 0) {
      const i = Math.floor(this.random() * a.length);
      out.push(a[i]!);
      a[i] = a[a.length - 1]!;
      a.pop();
    }
    return out;
  }

  private others(filter: (n: Node) => boolean): Node[] {
    const out: Node[] = [];
    for (const n of this.nodes.values()) if (n !== this.self && filter(n)) out.push(n);
    return out;
  }

  private isLive(n: Node): boolean {
    return n.status === 'alive' || n.status === 'suspect';
  }

  // ---------------------------------------------------------------- sending

  private sendRaw(to: Address, encoded: Uint8Array[], piggyback: boolean): void {
    if (this.closed) return;
    const msgs = encoded.slice();
    if (piggyback) {
      const each = this.wire.perMessageOverhead;
      let used = this.wire.packetOverhead;
      for (const e of msgs) used += e.length + each;
      const budget = this.config.udpBufferSize - used;
      const limit = retransmitLimit(this.config, this.liveCount());
      msgs.push(...this.queue.take(budget, limit, 255 - msgs.length, each));
    }
    if (msgs.length === 0) return;
    const wire = this.wire.seal(msgs);
    this.stats.packetsSent++;
    this.stats.bytesSent += wire.length;
    this.transport.send(to, wire);
  }

  private send(to: Address, messages: Message[], piggyback = true): void {
    this.sendRaw(
      to,
      messages.map((m) => this.wire.encode(m)),
      piggyback,
    );
  }

  private gossip(): void {
    if (this.closed || this.queue.length === 0) return;
    const targets = this.sample(
      this.others((n) => this.isLive(n)),
      this.config.gossipNodes,
    );
    for (const t of targets) {
      if (this.queue.length === 0) break;
      this.sendRaw(t.address, [], true);
    }
  }

  /** Gossip now rather than at the next tick (urgent news: suspicion, death, refutation, leave). */
  private gossipSoon(): void {
    if (this.eagerGossip || this.closed) return;
    this.eagerGossip = true;
    this.timeout(() => {
      this.eagerGossip = false;
      this.gossip();
    }, 0);
  }

  private aliveMessage(n: Node): AliveMessage {
    return { type: 'alive', incarnation: n.incarnation, node: n.name, address: n.address, labels: n.labels };
  }

  private broadcastAlive(node: Node = this.self): void {
    this.queue.invalidateNode(node.name);
    this.queue.push(`state:${node.name}`, node.name, this.wire.encode(this.aliveMessage(node)));
    if (node === this.self) this.gossipSoon();
  }

  // ---------------------------------------------------------------- receiving

  private onPacket(data: Uint8Array, from: Address): void {
    if (this.closed) return;
    this.stats.packetsReceived++;
    this.stats.bytesReceived += data.length;
    const packet = this.opened(this.wire.open(data, from), data, from, 'udp');
    if (!packet) return;
    // Pings last: their acks then piggyback whatever the rest of the packet triggered (e.g. our refutation of the
    // buddy-system suspect that rode on the ping).
    for (const m of packet) if (m.type !== 'ping') this.handle(m, from);
    for (const m of packet) if (m.type === 'ping') this.handle(m, from);
  }

  /** The messages of what the wire opened, or undefined after counting and warning about a rejection. */
  private opened(
    opened: ReturnType<GossipWire['open']>,
    data: Uint8Array,
    from: Address,
    via: 'udp' | 'tcp',
  ): Message[] | undefined {
    if (opened.ok) return opened.messages;
    const r = opened.reason;
    if (r === 'auth-failed') this.stats.authFailures++;
    else if (r === 'plaintext-refused') this.stats.plaintextRejected++;
    else if (r === 'stale') this.stats.staleRejected++;
    else if (r === 'replayed') this.stats.replayRejected++;
    else if (r === 'decode-error') this.stats.decodeErrors++;
    else this.stats.envelopeRejected++;
    this.warnRejected(r, { from: `${from.host}:${from.port}`, via, bytes: data.length, ...opened.detail });
    return undefined;
  }

  /** Counts are in `stats`; this logs a warning per reason at most every 10 s, with how many were suppressed. */
  private warnRejected(reason: RejectionReason, fields: Record<string, unknown>): void {
    const suppressed = this.warnings.admit(reason, this.clock.now());
    if (suppressed === undefined) return;
    const hint = reason === 'stale' ? ' (timestamp outside the replay window: check the clocks (NTP) or a replay)' : '';
    this.log('warn', `rejected gossip packet: ${reason}${hint}`, { reason, ...fields, suppressed });
  }

  /** Rejected packets and messages by reason (the counters of `stats`, keyed as `RejectionReason`). */
  rejections(): Record<RejectionReason, number> {
    const s = this.stats;
    return {
      'auth-failed': s.authFailures,
      'plaintext-refused': s.plaintextRejected,
      'bad-envelope': s.envelopeRejected,
      stale: s.staleRejected,
      replayed: s.replayRejected,
      'decode-error': s.decodeErrors,
      'name-conflict': s.nameConflicts,
    };
  }

  private handle(m: Message, from: Address): void {
    switch (m.type) {
      case 'ping':
        if (m.target === this.name) this.send(from, [{ type: 'ack', seq: m.seq }]);
        return;
      case 'ping-req':
        this.prober.indirectProbe(m.seq, m.target, m.targetAddress, from, m.nack);
        return;
      case 'ack':
        this.pending.get(m.seq)?.ack();
        return;
      case 'nack':
        this.pending.get(m.seq)?.nack();
        return;
      case 'suspect':
        this.state.onSuspect(m);
        return;
      case 'alive':
        this.state.onAlive(m);
        return;
      case 'dead':
        this.state.onDead(m);
        return;
      case 'push-pull':
        return; // only valid over TCP
    }
  }
}
