/**
 * An ordered map keyed by bigint (an AVL tree): O(log n) insert, delete, floor and ceiling. The allocator's
 * occupancy runs and sharing indexes live in these, so no operation ever walks a pool address by address.
 */

/** One entry of an {@link OrderedMap}; `value` may be changed in place, `key` must not. */
export interface Entry<V> {
  /** The key. */
  readonly key: bigint;
  /** The value. */
  value: V;
}

interface Node<V> extends Entry<V> {
  left: Node<V> | undefined;
  right: Node<V> | undefined;
  height: number;
}

function h<V>(n: Node<V> | undefined): number {
  return n === undefined ? 0 : n.height;
}

function fix<V>(n: Node<V>): void {
  n.height = Math.max(h(n.left), h(n.right)) + 1;
}

function rotateRight<V>(n: Node<V>): Node<V> {
  const l = n.left!;
  n.left = l.right;
  l.right = n;
  fix(n);
  fix(l);
  return l;
}

function rotateLeft<V>(n: Node<V>): Node<V> {
  const r = n.right!;
  n.right = r.left;
  r.left = n;
  fix(n);
  fix(r);
  return r;
}

function balance<V>(n: Node<V>): Node<V> {
  fix(n);
  const bf = h(n.left) - h(n.right);
  if (bf > 1) {
    if (h(n.left!.left) < h(n.left!.right)) n.left = rotateLeft(n.left!);
    return rotateRight(n);
  }
  if (bf < -1) {
    if (h(n.right!.right) < h(n.right!.left)) n.right = rotateRight(n.right!);
    return rotateLeft(n);
  }
  return n;
}

/** An ordered map from bigint keys to values. */
export class OrderedMap<V> {
  private root: Node<V> | undefined;
  private count = 0;

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** The entry with exactly this key. */
  get(key: bigint): Entry<V> | undefined {
    let n = this.root;
    while (n !== undefined) {
      if (key < n.key) n = n.left;
      else if (key > n.key) n = n.right;
      else return n;
    }
    return undefined;
  }

  /** Inserts or replaces. */
  set(key: bigint, value: V): void {
    this.root = this.insert(this.root, key, value);
  }

  private insert(n: Node<V> | undefined, key: bigint, value: V): Node<V> {
    if (n === undefined) {
      this.count++;
      return { key, value, left: undefined, right: undefined, height: 1 };
    }
    if (key < n.key) n.left = this.insert(n.left, key, value);
    else if (key > n.key) n.right = this.insert(n.right, key, value);
    else {
      n.value = value;
      return n;
    }
    return balance(n);
  }

  /** Removes the key; returns whether it was present. */
  delete(key: bigint): boolean {
    const before = this.count;
    this.root = this.remove(this.root, key);
    return this.count !== before;
  }

  private remove(n: Node<V> | undefined, key: bigint): Node<V> | undefined {
    if (n === undefined) return undefined;
    if (key < n.key) n.left = this.remove(n.left, key);
    else if (key > n.key) n.right = this.remove(n.right, key);
    else {
      this.count--;
      if (n.left === undefined) return n.right;
      if (n.right === undefined) return n.left;
      let m = n.right;
      while (m.left !== undefined) m = m.left;
      const right = this.removeMin(n.right);
      m.left = n.left;
      m.right = right;
      return balance(m);
    }
    return balance(n);
  }

  private removeMin(n: Node<V>): Node<V> | undefined {
    if (n.left === undefined) return n.right;
    n.left = this.removeMin(n.left);
    return balance(n);
  }

  /** The entry with the greatest key ≤ `key`. */
  floor(key: bigint): Entry<V> | undefined {
    let n = this.root;
    let best: Node<V> | undefined;
    while (n !== undefined) {
      if (n.key === key) return n;
      if (n.key < key) {
        best = n;
        n = n.right;
      } else n = n.left;
    }
    return best;
  }

  /** The entry with the least key ≥ `key`. */
  ceiling(key: bigint): Entry<V> | undefined {
    let n = this.root;
    let best: Node<V> | undefined;
    while (n !== undefined) {
      if (n.key === key) return n;
      if (n.key > key) {
        best = n;
        n = n.left;
      } else n = n.right;
    }
    return best;
  }

  /** The entry with the least key > `key`. */
  higher(key: bigint): Entry<V> | undefined {
    return this.ceiling(key + 1n);
  }

  /** The entry with the least key. */
  first(): Entry<V> | undefined {
    let n = this.root;
    if (n === undefined) return undefined;
    while (n.left !== undefined) n = n.left;
    return n;
  }

  /** All entries in key order. */
  *entries(): IterableIterator<Entry<V>> {
    const stack: Node<V>[] = [];
    let n = this.root;
    while (n !== undefined || stack.length > 0) {
      while (n !== undefined) {
        stack.push(n);
        n = n.left;
      }
      const top = stack.pop()!;
      yield top;
      n = top.right;
    }
  }
}
