/**
 * Push-pull anti-entropy of a {@link Membership}: full state over TCP on join and periodically (and to dead members and
 * seeds to heal partitions), merged memberlist's way. The membership lends it what it needs ({@link PushPullHost}).
 */
import type {
  Address,
  AliveMessage,
  DeadMessage,
  MemberRecord,
  Message,
  PushPullMessage,
  SuspectMessage,
} from './codec.js';
import { messageEncodingLength } from './codec.js';
import type { ProtocolConfig } from './config.js';
import type { MembershipStats, Node } from './membership-types.js';
import type { Transport } from './transport.js';
import type { GossipWire, WireOpened } from './wire.js';

/** What push-pull needs from its membership (internal). */
export interface PushPullHost {
  readonly name: string;
  readonly config: Readonly<ProtocolConfig>;
  readonly stats: MembershipStats;
  readonly wire: GossipWire;
  readonly transport: Transport;
  readonly self: Node;
  /** Seeds given to join, retried while alone. */
  readonly seeds: readonly Address[];
  nodes(): Iterable<Node>;
  node(name: string): Node | undefined;
  /** Drops a member and everything queued about it. */
  forget(name: string): void;
  isClosed(): boolean;
  isLeaving(): boolean;
  isLive(n: Node): boolean;
  others(filter: (n: Node) => boolean): Node[];
  sample(candidates: Node[], k: number): Node[];
  liveCount(): number;
  random(): number;
  now(): number;
  onAlive(m: AliveMessage): void;
  onSuspect(m: SuspectMessage): void;
  onDead(m: DeadMessage): void;
  send(to: Address, messages: Message[], piggyback?: boolean): void;
  /** Counts and logs a refused stream message; the messages otherwise. */
  opened(opened: WireOpened, data: Uint8Array, from: Address, via: 'udp' | 'tcp'): Message[] | undefined;
}

/** Push-pull for one membership. */
export class PushPull {
  /** @param h - the membership's view */
  constructor(private readonly h: PushPullHost) {}

  /**
   * Full state for push-pull. With `maxBytes` (a request to a server that reads at most that much before it can
   * authenticate anything), only the first records that fit are sent: this node first, then live members, then dead and
   * left ones; the rest reaches the peer in the reply to its own next push-pull.
   */
  stateMessage(join: boolean, maxBytes = Number.POSITIVE_INFINITY): PushPullMessage {
    const rank = (n: Node) => (n === this.h.self ? 0 : this.h.isLive(n) ? 1 : 2);
    const members: MemberRecord[] = [...this.h.nodes()]
      .sort((a, b) => rank(a) - rank(b))
      .map((n) => ({
        name: n.name,
        address: n.address,
        incarnation: n.incarnation,
        status: n.status,
        labels: n.labels,
      }));
    const msg: PushPullMessage = { type: 'push-pull', join, source: this.h.name, members };
    const overhead = this.h.wire.packetOverhead;
    // Ingot's codec knows its size without encoding; memberlist's (msgpack, LZW, AES-GCM) is measured by sealing it.
    const size = (m: PushPullMessage) =>
      this.h.wire.format === 'ingot' ? messageEncodingLength(m) + overhead : this.h.wire.sealStream(m, true).length;
    if (size(msg) <= maxBytes) return msg;
    let lo = 1;
    let hi = members.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const fits = size({ ...msg, members: members.slice(0, mid) }) <= maxBytes;
      if (fits) lo = mid;
      else hi = mid - 1;
    }
    return { ...msg, members: members.slice(0, lo) };
  }

  merge(remote: PushPullMessage): void {
    for (const r of remote.members) {
      const local = this.h.node(r.name);
      switch (r.status) {
        case 'alive':
        case 'suspect':
          this.h.onAlive({
            type: 'alive',
            incarnation: r.incarnation,
            node: r.name,
            address: r.address,
            labels: r.labels,
          });
          if (r.status === 'suspect') {
            this.h.onSuspect({ type: 'suspect', incarnation: r.incarnation, node: r.name, from: remote.source });
          }
          // The remote sees it alive at the incarnation we declared dead: tell it directly so it can refute (heals
          // partitions without waiting for it to be probed).
          if (local && local !== this.h.self && local.status === 'dead' && local.incarnation === r.incarnation) {
            this.h.send(
              r.address,
              [{ type: 'dead', incarnation: r.incarnation, node: r.name, from: this.h.name }],
              false,
            );
          }
          break;
        case 'dead':
          // memberlist: a remote death is only a suspicion here
          this.h.onSuspect({ type: 'suspect', incarnation: r.incarnation, node: r.name, from: remote.source });
          break;
        case 'left':
          this.h.onDead({ type: 'dead', incarnation: r.incarnation, node: r.name, from: r.name });
          break;
      }
    }
  }

  onExchange(data: Uint8Array, from: Address): Uint8Array | undefined {
    if (this.h.isClosed()) return undefined;
    this.h.stats.bytesReceived += data.length;
    const msgs = this.h.opened(this.h.wire.openStream(data, from, true), data, from, 'tcp') ?? [];
    const m = msgs[0];
    if (msgs.length !== 1 || !m) return undefined;
    let reply: Uint8Array;
    if (m.type === 'ping' && m.target === this.h.name) {
      // memberlist's TCP fallback probe: answer with an ack on the same stream
      reply = this.h.wire.sealStream({ type: 'ack', seq: m.seq }, false);
    } else if (m.type === 'push-pull') {
      this.h.stats.pushPulls++;
      this.merge(m);
      reply = this.h.wire.sealStream(this.stateMessage(false), false);
    } else return undefined;
    this.h.stats.bytesSent += reply.length;
    return reply;
  }

  pushPull(to: Address, join: boolean, done?: (err: Error | undefined) => void): void {
    const state = this.stateMessage(join, this.h.transport.maxRequestBytes);
    const request = this.h.wire.sealStream(state, true);
    this.h.stats.bytesSent += request.length;
    this.h.transport.exchange(to, request, this.h.config.tcpTimeoutMs, (err, reply) => {
      if (this.h.isClosed()) {
        done?.(new Error('closed'));
        return;
      }
      if (err || !reply) {
        this.h.stats.pushPullFailures++;
        done?.(err ?? new Error('no reply'));
        return;
      }
      this.h.stats.bytesReceived += reply.length;
      const msgs = this.h.opened(this.h.wire.openStream(reply, to, false), reply, to, 'tcp');
      const m = msgs?.[0];
      if (m?.type !== 'push-pull') {
        this.h.stats.pushPullFailures++;
        done?.(new Error(`bad push-pull reply from ${to.host}:${to.port}`));
        return;
      }
      this.h.stats.pushPulls++;
      this.merge(m);
      done?.(undefined);
    });
  }

  periodicPushPull(reconnect: boolean): void {
    if (this.h.isLeaving()) return;
    if (reconnect) this.reap();
    const pool = this.h.others((n) => (reconnect ? n.status === 'dead' : n.status === 'alive'));
    const target = this.h.sample(pool, 1)[0];
    if (target) this.pushPull(target.address, false);
    else if (reconnect && this.h.seeds.length > 0 && this.h.liveCount() === 1) {
      // alone (a failed join, or everyone else gone): keep trying the seeds we were given
      const seed = this.h.seeds[Math.floor(this.h.random() * this.h.seeds.length)]!;
      this.pushPull(seed, true);
    }
  }

  reap(): void {
    const cutoff = this.h.now() - this.h.config.deadRetentionMs;
    for (const n of [...this.h.nodes()]) {
      if (n !== this.h.self && (n.status === 'dead' || n.status === 'left') && n.statusSince < cutoff) {
        this.h.forget(n.name);
      }
    }
  }
}
