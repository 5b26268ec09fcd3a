/**
 * A Map that survives delete/re-insert churn of the same keys.
 *
 * V8's `Map` keeps a deleted entry in its bucket chain until the table is rebuilt, so deleting and re-inserting the
 * same key over and over (an IP released and handed out again, a service cleared and re-allocated on every reconcile)
 * makes that key's chain grow by one entry per cycle: measured on Node 20, a set+delete pair of one key in a 50,000-entry
 * map costs 30–60 µs instead of 0.4 µs. Here a delete only clears the value (a tombstone) and a re-insert overwrites it
 * in place; tombstones are swept by rebuilding the map once they outnumber the live entries (amortized O(1)).
 */
export class ChurnSafeMap<K, V> {
  private map = new Map<K, V | undefined>();
  private live = 0;

  /** Number of live entries. */
  get size(): number {
    return this.live;
  }

  /** The value for `key`, or undefined. */
  get(key: K): V | undefined {
    return this.map.get(key);
  }

  /** True when `key` has a live value. */
  has(key: K): boolean {
    return this.map.get(key) !== undefined;
  }

  /** Sets a (defined) value. */
  set(key: K, value: V): void {
    if (this.map.get(key) === undefined) this.live++;
    this.map.set(key, value);
  }

  /** Sets a (defined) value for a key the caller knows has none (one hash lookup fewer than {@link set}). */
  add(key: K, value: V): void {
    this.live++;
    this.map.set(key, value);
  }

  /** Removes `key`; returns whether it had a live value. */
  delete(key: K): boolean {
    if (this.map.get(key) === undefined) return false;
    this.map.set(key, undefined);
    this.live--;
    const tombstones = this.map.size - this.live;
    if (tombstones > 1024 && tombstones > this.live) this.sweep();
    return true;
  }

  private sweep(): void {
    const next = new Map<K, V | undefined>();
    for (const [k, v] of this.map) if (v !== undefined) next.set(k, v);
    this.map = next;
  }

  /** Live keys, in first-insertion order. */
  *keys(): IterableIterator<K> {
    for (const [k, v] of this.map) if (v !== undefined) yield k;
  }

  /** Live values, in first-insertion order of their keys. */
  *values(): IterableIterator<V> {
    for (const v of this.map.values()) if (v !== undefined) yield v;
  }
}
