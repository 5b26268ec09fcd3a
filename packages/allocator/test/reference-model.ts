/**
 * A deliberately naive reference allocator for property tests: pools are small and enumerated address by address
 * in configuration order, and every rule is MetalLB's code transcribed literally (linear scans, no indexes).
 */
import type { AllocationErrorCode, IpFamilyPolicy } from '../src/index.js';
import { formatIp, parseAddressEntry } from '../src/index.js';

export interface ModelPool {
  name: string;
  addresses: string[];
  autoAssign: boolean;
  avoidBuggyIPs: boolean;
  priority?: number;
  namespaces?: string[];
}

export interface ModelService {
  namespace: string;
  family: 'IPv4' | 'IPv6' | 'dual';
  policy: IpFamilyPolicy;
  sharingKey: string;
  backendKey: string;
  ports: string[];
}

interface Addr {
  fam: 4 | 6;
  text: string;
}

interface Alloc {
  pool: string;
  ips: string[];
  ports: string[];
  sharing: string;
  backend: string;
}

export type ModelResult = { ok: true; ips: string[] } | { ok: false; code: AllocationErrorCode };

export class ReferenceModel {
  private pools: { spec: ModelPool; addrs: Addr[] }[] = [];
  readonly allocs = new Map<string, Alloc>();
  /** Released addresses, oldest first (least-recently-released mode only). */
  private released: string[] = [];

  /** @param lrr - least-recently-released reuse */
  constructor(private readonly lrr = false) {}

  setPools(specs: ModelPool[]): { evicted: string[] } {
    const oldPools = this.pools;
    this.pools = specs.map((spec) => {
      const addrs: Addr[] = [];
      for (const entry of spec.addresses) {
        const r = parseAddressEntry(entry);
        if (!r.ok) throw new Error(r.error);
        for (const p of r.prefixes) {
          for (let v = p.first; v <= p.last; v++) {
            const text = formatIp(p.family, v);
            if (spec.avoidBuggyIPs && p.family === 4 && (v % 256n === 0n || v % 256n === 255n)) continue;
            addrs.push({ fam: p.family, text });
          }
        }
      }
      return { spec, addrs };
    });
    const evicted: string[] = [];
    for (const [key, a] of this.allocs) {
      const pool = this.poolFor(a.ips);
      if (pool === undefined) {
        this.allocs.delete(key);
        evicted.push(key);
      } else a.pool = pool;
    }
    // The release queue survives, grouped by old pool (in order), for addresses still in a pool.
    const queue = oldPools.flatMap((p) => this.released.filter((ip) => p.addrs.some((a) => a.text === ip)));
    this.released = queue.filter((ip) => this.poolFor([ip]) !== undefined);
    return { evicted };
  }

  private poolFor(ips: string[]): string | undefined {
    if (ips.length === 0) return undefined;
    for (const p of this.pools) if (ips.every((ip) => p.addrs.some((a) => a.text === ip))) return p.spec.name;
    return undefined;
  }

  private familyOf(ip: string): 4 | 6 {
    return ip.includes(':') ? 6 : 4;
  }

  usersOf(ip: string): string[] {
    return [...this.allocs].filter(([, a]) => a.ips.includes(ip)).map(([k]) => k);
  }

  private compatible(poolName: string, svc: ModelService): boolean {
    const p = this.pools.find((x) => x.spec.name === poolName)!.spec;
    if (p.namespaces && p.namespaces.length > 0 && !p.namespaces.includes(svc.namespace)) return false;
    return true;
  }

  private sharingError(key: string, ip: string, svc: ModelService): AllocationErrorCode | undefined {
    const users = this.usersOf(ip);
    if (users.length === 0) return undefined;
    const others = users.filter((u) => u !== key);
    const ex = this.allocs.get(others[0] ?? key)!;
    const ok =
      ex.sharing !== '' && svc.sharingKey !== '' && ex.sharing === svc.sharingKey && ex.backend === svc.backendKey;
    if (!ok && others.length > 0) return 'SHARING_CONFLICT';
    for (const p of svc.ports)
      for (const o of others) if (this.allocs.get(o)!.ports.includes(p)) return 'PORT_CONFLICT';
    return undefined;
  }

  assign(key: string, ips: string[], svc: ModelService): ModelResult {
    const pool = this.poolFor(ips);
    if (pool === undefined) return { ok: false, code: 'NOT_IN_CONFIG' };
    if (!this.compatible(pool, svc)) return { ok: false, code: 'POOL_INCOMPATIBLE' };
    if (ips.length > 2) return { ok: false, code: 'TOO_MANY_ADDRESSES' };
    if (ips.length === 2 && this.familyOf(ips[0]!) === this.familyOf(ips[1]!))
      return { ok: false, code: 'SAME_FAMILY' };
    for (const ip of ips) {
      const e = this.sharingError(key, ip, svc);
      if (e) return { ok: false, code: e };
    }
    const sorted = [...ips].sort((a, b) => this.familyOf(a) - this.familyOf(b));
    this.unassign(key);
    this.allocs.set(key, { pool, ips: sorted, ports: svc.ports, sharing: svc.sharingKey, backend: svc.backendKey });
    this.released = this.released.filter((ip) => !sorted.includes(ip));
    return { ok: true, ips: sorted };
  }

  unassign(key: string): boolean {
    const a = this.allocs.get(key);
    if (!a) return false;
    this.allocs.delete(key);
    for (const ip of a.ips) {
      if (this.lrr && this.usersOf(ip).length === 0) this.released.push(ip);
    }
    return true;
  }

  private firstIn(poolName: string, fam: 4 | 6, key: string, svc: ModelService): string | undefined {
    const p = this.pools.find((x) => x.spec.name === poolName)!;
    for (const a of p.addrs) {
      if (a.fam !== fam || this.released.includes(a.text)) continue;
      if (this.sharingError(key, a.text, svc) === undefined) return a.text;
    }
    return this.released.find((ip) => this.familyOf(ip) === fam && p.addrs.some((a) => a.text === ip));
  }

  private pick(poolName: string, svc: ModelService, key: string): string[] | undefined {
    const v4 = this.firstIn(poolName, 4, key, svc);
    const v6 = this.firstIn(poolName, 6, key, svc);
    if (svc.family === 'IPv4') return v4 ? [v4] : undefined;
    if (svc.family === 'IPv6') return v6 ? [v6] : undefined;
    if (v4 && v6) return [v4, v6];
    if (svc.policy !== 'PreferDualStack') return undefined;
    return v4 ? [v4] : v6 ? [v6] : undefined;
  }

  allocateFromPool(key: string, poolName: string, svc: ModelService): ModelResult {
    const held = this.allocs.get(key);
    if (held) {
      const fam = held.ips.length === 2 ? 'dual' : this.familyOf(held.ips[0]!) === 4 ? 'IPv4' : 'IPv6';
      if (svc.policy !== 'PreferDualStack' && fam !== svc.family) return { ok: false, code: 'WRONG_FAMILY' };
      return this.assign(key, held.ips, svc);
    }
    if (!this.pools.some((p) => p.spec.name === poolName)) return { ok: false, code: 'UNKNOWN_POOL' };
    const ips = this.pick(poolName, svc, key);
    if (!ips) return { ok: false, code: 'POOL_EXHAUSTED' };
    return this.assign(key, ips, svc);
  }

  private fromPools(names: string[], svc: ModelService, key: string): ModelResult | undefined {
    let chosen: string[] | undefined;
    if (svc.family !== 'dual') {
      for (const n of names) {
        chosen = this.pick(n, svc, key);
        if (chosen) break;
      }
    } else {
      let primary: string[] | undefined;
      let secondary: string[] | undefined;
      for (const n of names) {
        const v4 = this.firstIn(n, 4, key, svc);
        const v6 = this.firstIn(n, 6, key, svc);
        if (v4 && v6) {
          chosen = [v4, v6];
          break;
        }
        if (svc.policy !== 'PreferDualStack') continue;
        if (v4 && !primary) primary = [v4];
        if (v6 && !secondary) secondary = [v6];
      }
      chosen ??= primary ?? secondary;
    }
    if (!chosen) return undefined;
    const r = this.assign(key, chosen, svc);
    return r.ok ? r : undefined;
  }

  allocate(key: string, svc: ModelService): ModelResult {
    const held = this.allocs.get(key);
    if (held) return this.assign(key, held.ips, svc);
    const byName = [...this.pools].sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1));
    const pinned = byName
      .filter((p) => p.spec.priority !== undefined || p.spec.namespaces !== undefined)
      .filter((p) => (p.spec.namespaces?.includes(svc.namespace) ?? true) && p.spec.autoAssign)
      .sort((a, b) => {
        const pa = Math.max(a.spec.priority ?? 0, 0);
        const pb = Math.max(b.spec.priority ?? 0, 0);
        if (pa === pb) return a.spec.name < b.spec.name ? -1 : 1;
        return pa === 0 ? 1 : pb === 0 ? -1 : pa - pb;
      });
    const fallback = byName.filter(
      (p) => p.spec.autoAssign && p.spec.priority === undefined && p.spec.namespaces === undefined,
    );
    const r =
      this.fromPools(
        pinned.map((p) => p.spec.name),
        svc,
        key,
      ) ??
      this.fromPools(
        fallback.map((p) => p.spec.name),
        svc,
        key,
      );
    return r ?? { ok: false, code: 'NO_AVAILABLE_IPS' };
  }

  /** Distinct IPs in use per pool and family. */
  inUse(pool: string): { ipv4: number; ipv6: number } {
    const set = new Set<string>();
    for (const a of this.allocs.values()) if (a.pool === pool) for (const ip of a.ips) set.add(ip);
    let ipv4 = 0;
    let ipv6 = 0;
    for (const ip of set)
      if (this.familyOf(ip) === 4) ipv4++;
      else ipv6++;
    return { ipv4, ipv6 };
  }

  capacity(pool: string): { ipv4: number; ipv6: number } {
    const p = this.pools.find((x) => x.spec.name === pool)!;
    return { ipv4: p.addrs.filter((a) => a.fam === 4).length, ipv6: p.addrs.filter((a) => a.fam === 6).length };
  }

  contains(pool: string, ip: string): boolean {
    return this.pools.find((x) => x.spec.name === pool)!.addrs.some((a) => a.text === ip);
  }
}
