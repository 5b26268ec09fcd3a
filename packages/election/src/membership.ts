import { EventEmitter } from 'eventemitter3';
import { Awareness } from './awareness.js';
import { BroadcastQueue } from './broadcast-queue.js';
import { type Clock, systemClock, type TimerHandle } from './clock.js';
import type { Address, AliveMessage, DeadMessage, Labels, Message, SuspectMessage } from './codec.js';
import { type ProtocolConfig, resolveConfig, retransmitLimit, suspicionBounds } from './config.js';
import { ConfigError, JoinError } from './errors.js';
import { IngotWire } from './ingot-wire.js';
import { canonicalIp } from './ip.js';
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
  sameLabels,
} from './membership-types.js';
import { Prober } from './probe.js';
import { PushPull } from './push-pull.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { ReplayWindow } from './replay-window.js';
import { Suspicion } from './suspicion.js';
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
    const format = wire ?? 'ingot';
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
    else if (transport.framing && transport.framing !== this.wire.framing) {
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
      onSuspect: (m) => this.onSuspect(m),
      send: (to, msgs, piggyback) => this.send(to, msgs, piggyback),
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
      onAlive: (m) => this.onAlive(m),
      onSuspect: (m) => this.onSuspect(m),
      onDead: (m) => this.onDead(m),
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
        this.onSuspect(m);
        return;
      case 'alive':
        this.onAlive(m);
        return;
      case 'dead':
        this.onDead(m);
        return;
      case 'push-pull':
        return; // only valid over TCP
    }
  }

  // ---------------------------------------------------------------- state changes

  private refute(accusedIncarnation: number, accuser?: string): void {
    if (this.leaving || this.closed) return;
    this.self.incarnation = Math.max(this.self.incarnation, accusedIncarnation) + 1;
    this.awareness.apply(1);
    this.stats.refutations++;
    this.log('info', 'refuting suspicion about self', { incarnation: this.self.incarnation, accuser });
    this.broadcastAlive();
    const acc = accuser === undefined ? undefined : this.nodes.get(accuser);
    if (acc && acc !== this.self) this.send(acc.address, [this.aliveMessage(this.self)], false);
  }

  /**
   * Someone suspects us or declared us dead. At our incarnation or above: refute. Below it, the accuser missed our last
   * refutation: send it our current alive directly (no new incarnation needed).
   */
  private accused(incarnation: number, accuser: string): void {
    if (this.leaving || this.closed) return;
    if (incarnation >= this.self.incarnation) {
      this.refute(incarnation, accuser);
      return;
    }
    // re-queue our alive (fresh transmit count, so it rides on our next packets, the ack included) and tell the accuser
    this.broadcastAlive();
    const acc = this.nodes.get(accuser);
    if (acc && acc !== this.self) this.send(acc.address, [this.aliveMessage(this.self)], false);
  }

  private onSuspect(m: SuspectMessage): void {
    const n = this.nodes.get(m.node);
    if (n === this.self) {
      this.accused(m.incarnation, m.from);
      return;
    }
    if (!n || m.incarnation < n.incarnation) return;
    if (n.status === 'dead' || n.status === 'left') return;
    const bytes = this.wire.encode(m);
    if (n.status === 'suspect') {
      if (n.suspicion?.confirm(m.from)) {
        this.queue.push(`suspect:${m.node}:${m.from}`, m.node, bytes);
        this.gossipSoon();
      }
      return;
    }
    const live = this.liveCount();
    const { minMs, maxMs, k } = suspicionBounds(this.config, live);
    n.incarnation = m.incarnation;
    n.status = 'suspect';
    n.statusSince = this.clock.now();
    n.suspicion = new Suspicion(m.from, k, minMs, maxMs, this.clock, () => {
      // one 0 ms hop first: a refutation already waiting in the socket buffer wins
      this.timeout(() => {
        if (n.status !== 'suspect' || n.incarnation !== m.incarnation) return;
        this.onDead({ type: 'dead', incarnation: m.incarnation, node: n.name, from: this.name });
      }, 0);
    });
    if (m.from === this.name) this.stats.suspicionsRaised++;
    this.queue.push(`suspect:${m.node}:${m.from}`, m.node, bytes);
    this.gossipSoon();
    this.log('info', 'member suspect', { member: n.name, incarnation: m.incarnation, from: m.from });
    this.emit('suspect', this.snapshot(n));
    // Confirmation probing: a few members re-probe a freshly suspected member at once. If it is down they confirm
    // (shrinking everyone's timer to the minimum); if it is up, the suspect piggybacked on their ping lets it refute.
    if (
      m.from !== this.name &&
      !this.leaving &&
      !this.prober.probing.has(n.name) &&
      this.config.suspicionConfirmers > 0
    ) {
      const p = Math.min(1, this.config.suspicionConfirmers / Math.max(1, live - 2));
      if (this.random() < p) this.prober.probe(n);
    }
  }

  private onAlive(m: AliveMessage): void {
    if (m.node === this.name) {
      if (this.leaving) return;
      const differs =
        m.address.host !== this.self.address.host ||
        m.address.port !== this.self.address.port ||
        !sameLabels(m.labels, this.self.labels);
      if (m.incarnation > this.self.incarnation || (m.incarnation === this.self.incarnation && differs)) {
        this.refute(m.incarnation);
      }
      return;
    }
    const n = this.nodes.get(m.node);
    if (n && this.isLive(n) && (m.address.host !== n.address.host || m.address.port !== n.address.port)) {
      // memberlist's "Conflicting address": a live member's name claimed from another address is refused (and logged),
      // so a duplicate or forged name cannot make the member's address flap. Once it is dead or left, a restart on a new
      // address is accepted.
      this.stats.nameConflicts++;
      if (this.warnings.admit(`conflict:${m.node}`, this.clock.now()) !== undefined) {
        this.log('warn', 'name conflict: refused a live member name claimed from another address', {
          member: m.node,
          known: `${n.address.host}:${n.address.port}`,
          claimed: `${m.address.host}:${m.address.port}`,
          status: n.status,
        });
      }
      return;
    }
    if (!n) {
      const fresh: Node = {
        name: m.node,
        address: { ...m.address },
        labels: Object.freeze({ ...m.labels }),
        incarnation: m.incarnation,
        status: 'alive',
        statusSince: this.clock.now(),
      };
      this.nodes.set(m.node, fresh);
      this.prober.add(m.node);
      this.broadcastAlive(fresh);
      this.recordSize();
      this.log('info', 'member joined', { member: m.node, address: m.address, incarnation: m.incarnation });
      this.emit('join', this.snapshot(fresh));
      return;
    }
    if (m.incarnation <= n.incarnation) return;
    const was = n.status;
    const changed =
      m.address.host !== n.address.host || m.address.port !== n.address.port || !sameLabels(m.labels, n.labels);
    n.incarnation = m.incarnation;
    n.address = { ...m.address };
    n.labels = Object.freeze({ ...m.labels });
    n.suspicion?.cancel();
    n.suspicion = undefined;
    n.status = 'alive';
    if (was !== 'alive') n.statusSince = this.clock.now();
    this.broadcastAlive(n);
    if (was === 'dead' || was === 'left') {
      this.prober.readd(n.name);
      this.recordSize();
      this.log('info', 'member rejoined', { member: n.name, incarnation: n.incarnation });
      this.emit('join', this.snapshot(n));
      return;
    }
    if (was === 'suspect') {
      this.gossipSoon();
      this.log('info', 'member refuted suspicion', { member: n.name, incarnation: n.incarnation });
      this.emit('alive', this.snapshot(n));
    }
    if (changed) this.emit('update', this.snapshot(n));
  }

  private onDead(m: DeadMessage): void {
    const n = this.nodes.get(m.node);
    if (n === this.self) {
      this.accused(m.incarnation, m.from);
      return;
    }
    if (!n || m.incarnation < n.incarnation) return;
    if (n.status === 'dead' || n.status === 'left') return;
    const left = m.from === m.node;
    n.suspicion?.cancel();
    n.suspicion = undefined;
    n.incarnation = m.incarnation;
    n.status = left ? 'left' : 'dead';
    n.statusSince = this.clock.now();
    this.queue.invalidateNode(n.name);
    this.queue.push(`state:${n.name}`, n.name, this.wire.encode(m));
    this.gossipSoon();
    this.recordSize();
    this.log('info', left ? 'member left' : 'member declared dead', {
      member: n.name,
      incarnation: m.incarnation,
      from: m.from,
    });
    this.emit(left ? 'leave' : 'dead', this.snapshot(n));
  }
}
