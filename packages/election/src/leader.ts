import { createHash } from 'node:crypto';
import { ConfigError } from './errors.js';
import { canonicalIp } from './ip.js';

/** A candidate node for an IP: a name, or a name with a preference weight (MetalLB's preferred-node score). */
export type Candidate = string | { name: string; weight?: number };

/** Options for {@link sortCandidates} and {@link electLeader}. */
export interface LeaderOptions {
  /** Extra preference weights by node name, added to any weight on the candidate itself. */
  weights?: Readonly<Record<string, number>>;
  /** Normalise `ip` to Go's `net.IP.String()` form before hashing (default true: matches MetalLB for any spelling). */
  canonicalize?: boolean;
}

function hashKey(name: string, ip: string): Buffer {
  return createHash('sha256').update(`${name}#${ip}`).digest();
}

function normalise(candidates: readonly Candidate[], options: LeaderOptions): { name: string; weight: number }[] {
  const seen = new Map<string, number>();
  for (const c of candidates) {
    const name = typeof c === 'string' ? c : c.name;
    const own = typeof c === 'string' ? 0 : (c.weight ?? 0);
    if (typeof name !== 'string' || name.length === 0)
      throw new ConfigError('candidates', 'names must be non-empty strings');
    if (!Number.isFinite(own)) throw new ConfigError('candidates', `weight of ${name} must be finite`);
    seen.set(name, own + (options.weights?.[name] ?? 0));
  }
  return [...seen].map(([name, weight]) => ({ name, weight }));
}

/**
 * MetalLB's layer-2 candidate order for one IP (`sortL2Candidates`): highest preference weight first, then ascending
 * bytewise `sha256(nodeName + "#" + ip)`. Index 0 announces the IP. Duplicate names are merged.
 * @param candidates - eligible nodes (e.g. `membership.usableMembers()` filtered by the service's rules)
 * @param ip - the service's first LoadBalancer IP
 * @param options - weights and IP canonicalisation
 * @returns node names, best first
 */
export function sortCandidates(candidates: readonly Candidate[], ip: string, options: LeaderOptions = {}): string[] {
  const key = options.canonicalize === false ? ip : canonicalIp(ip);
  return normalise(candidates, options)
    .map((c) => ({ ...c, hash: hashKey(c.name, key) }))
    .sort((a, b) => b.weight - a.weight || Buffer.compare(a.hash, b.hash))
    .map((c) => c.name);
}

/**
 * The node that announces `ip`: the first of {@link sortCandidates}. Every member computes the same answer from the same
 * candidate set, with no coordination.
 * @returns the leader's name, or undefined with no candidates
 */
export function electLeader(
  candidates: readonly Candidate[],
  ip: string,
  options: LeaderOptions = {},
): string | undefined {
  return sortCandidates(candidates, ip, options)[0];
}

/** Options for {@link assignBalanced}. */
export interface BalancedOptions {
  /** Eligible nodes per IP (e.g. externalTrafficPolicy Local); default: every node is eligible for every IP. */
  candidatesFor?: (ip: string) => readonly string[];
  /**
   * The current assignment. When given, assignment is sticky: an IP stays on its owner while the owner is eligible and
   * under capacity, so a membership change moves only the IPs it must (see README). When absent the result is a pure
   * function of (ips, nodes): stateless, but a change may move a few more IPs.
   */
  previous?: ReadonlyMap<string, string>;
  /** Normalise IPs before hashing (default true). */
  canonicalize?: boolean;
}

/**
 * Assigns a set of IPs to nodes with bounded load: rendezvous (highest-random-weight) hashing with capacity
 * `ceil(ips / nodes)`. IPs are placed in ascending `sha256(ip)` order; each goes to its best-ranked eligible node (MetalLB's
 * order, {@link sortCandidates}) that is below capacity; only when all its eligible nodes are full does it go to the least
 * loaded of them. With restricted eligibility the most constrained IPs are placed first and a repair pass moves IPs off
 * overfull nodes, so a node exceeds capacity only with IPs whose every candidate is full. With every node eligible, no
 * node owns more than `ceil(ips / nodes)`.
 * @param ips - the service IPs (duplicates merged)
 * @param nodes - the live nodes
 * @param options - per-IP eligibility and the previous assignment
 * @returns ip → node; IPs with no eligible node are absent
 */
export function assignBalanced(
  ips: readonly string[],
  nodes: readonly string[],
  options: BalancedOptions = {},
): Map<string, string> {
  const canon = (ip: string) => (options.canonicalize === false ? ip : canonicalIp(ip));
  const nodeSet = new Set(nodes);
  const unique = [...new Set(ips.map(canon))];
  const capacity = nodeSet.size === 0 ? 0 : Math.ceil(unique.length / nodeSet.size);
  const load = new Map<string, number>([...nodeSet].map((n) => [n, 0]));
  const order = unique
    .map((ip) => ({ ip, h: createHash('sha256').update(ip).digest() }))
    .sort((a, b) => Buffer.compare(a.h, b.h))
    .map((x) => x.ip);
  const eligible = new Map<string, string[]>();
  const ranked = new Map<string, string[]>();
  for (const ip of order) {
    const cands = (options.candidatesFor ? options.candidatesFor(ip) : [...nodeSet]).filter((n) => nodeSet.has(n));
    eligible.set(ip, cands);
    ranked.set(ip, sortCandidates(cands, ip, { canonicalize: false }));
  }
  const out = new Map<string, string>();
  const prev = new Map<string, string>();
  for (const [ip, n] of options.previous ?? []) prev.set(canon(ip), n);
  if (prev.size > 0) {
    // Sticky pass: keep current owners that are still eligible, up to capacity. When a node is over capacity it keeps
    // the IPs it ranks best for (the same ones the stateless pass would give it).
    const keepers = new Map<string, string[]>();
    for (const ip of order) {
      const owner = prev.get(ip);
      if (owner !== undefined && eligible.get(ip)!.includes(owner)) {
        const list = keepers.get(owner) ?? [];
        list.push(ip);
        keepers.set(owner, list);
      }
    }
    for (const [owner, list] of keepers) {
      const rank = (ip: string) => ranked.get(ip)!.indexOf(owner);
      list.sort((a, b) => rank(a) - rank(b) || order.indexOf(a) - order.indexOf(b));
      for (const ip of list.slice(0, capacity)) {
        out.set(ip, owner);
        load.set(owner, load.get(owner)! + 1);
      }
    }
  }
  // Most constrained IPs first (fewest eligible nodes), then hash order: a lone candidate takes its IP before others
  // fill it up.
  const placing = order.filter((ip) => !out.has(ip));
  placing.sort((a, b) => ranked.get(a)!.length - ranked.get(b)!.length);
  for (const ip of placing) {
    const r = ranked.get(ip)!;
    if (r.length === 0) continue;
    let chosen = r.find((n) => load.get(n)! < capacity);
    if (chosen === undefined) {
      chosen = r[0]!;
      for (const n of r) if (load.get(n)! < load.get(chosen)!) chosen = n;
    }
    out.set(ip, chosen);
    load.set(chosen, load.get(chosen)! + 1);
  }
  // Repair (restricted eligibility only): while a node above capacity owns an IP with an eligible node below capacity,
  // move it there. Each move lowers the total excess, so this ends; afterwards a node is above capacity only with IPs
  // whose every candidate is at capacity or above.
  for (let changed = true; changed; ) {
    changed = false;
    for (const ip of order) {
      const owner = out.get(ip);
      if (owner === undefined || load.get(owner)! <= capacity) continue;
      const target = ranked.get(ip)!.find((n) => load.get(n)! < capacity);
      if (target === undefined) continue;
      out.set(ip, target);
      load.set(owner, load.get(owner)! - 1);
      load.set(target, load.get(target)! + 1);
      changed = true;
    }
  }
  // return in input order for readability
  const ordered = new Map<string, string>();
  for (const ip of unique) {
    const n = out.get(ip);
    if (n !== undefined) ordered.set(ip, n);
  }
  return ordered;
}
