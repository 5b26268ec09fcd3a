/** A message waiting to be piggybacked or gossiped. */
interface Entry {
  key: string;
  node: string;
  bytes: Uint8Array;
  transmits: number;
  order: number;
}

/**
 * memberlist's TransmitLimitedQueue: broadcasts are sent fewest-transmits-first, newest first among equals, each at most
 * `limit` times, where the caller computes `limit = retransmitMult * ceil(log10(n + 1))`. A newer broadcast replaces an
 * older one with the same key; `invalidateNode` drops everything about a node (an alive or dead supersedes suspects).
 */
export class BroadcastQueue {
  private entries: Entry[] = [];
  private counter = 0;

  /** Number of queued broadcasts. */
  get length(): number {
    return this.entries.length;
  }

  /**
   * Queues an encoded message.
   * @param key - replacement key (e.g. `alive:node`)
   * @param node - the member the message is about
   * @param bytes - the encoded message
   */
  push(key: string, node: string, bytes: Uint8Array): void {
    this.entries = this.entries.filter((e) => e.key !== key);
    this.entries.push({ key, node, bytes, transmits: 0, order: this.counter++ });
  }

  /** Drops every queued message about `node`. */
  invalidateNode(node: string): void {
    this.entries = this.entries.filter((e) => e.node !== node);
  }

  /**
   * Takes broadcasts that fit in `budget` bytes, counting one transmit for each; entries that reach `limit` are removed.
   * `overhead` is what each one costs in the packet beyond its bytes (memberlist's compound length field).
   * @returns encoded messages
   */
  take(budget: number, limit: number, maxCount = 250, overhead = 0): Uint8Array[] {
    if (this.entries.length === 0) return [];
    this.entries.sort((a, b) => a.transmits - b.transmits || b.order - a.order);
    const out: Uint8Array[] = [];
    let used = 0;
    for (const e of this.entries) {
      if (out.length >= maxCount) break;
      if (used + e.bytes.length + overhead > budget) continue;
      used += e.bytes.length + overhead;
      e.transmits++;
      out.push(e.bytes);
    }
    this.entries = this.entries.filter((e) => e.transmits < limit);
    return out;
  }
}
