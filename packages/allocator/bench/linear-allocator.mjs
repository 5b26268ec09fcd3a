// A linear-scan allocator with MetalLB's algorithm (internal/allocator/allocator.go), the yardstick for bench/run.mjs:
// allocation walks each pool CIDR from its first address, formats every candidate (MetalLB keys its maps by
// ip.String()) and takes the first one checkSharing accepts. Only what the benchmark needs: single-family services,
// pools without serviceAllocation, sharing by key with ports.
import { formatIp, parseCidr, parseIp } from '../dist/index.js';

export class LinearAllocator {
  /** @param {{ name: string, cidrs: string[] }[]} pools */
  constructor(pools) {
    this.pools = new Map(pools.map((p) => [p.name, p.cidrs.map((c) => parseCidr(c))]));
    /** @type {Map<string, { pool: string, ip: string, ports: string[], sharing: string }>} */
    this.allocated = new Map();
    /** @type {Map<string, string>} */
    this.sharingKeyForIP = new Map();
    /** @type {Map<string, Map<string, string>>} */
    this.portsInUse = new Map();
    /** @type {Map<string, Set<string>>} */
    this.servicesOnIP = new Map();
  }

  checkSharing(svc, ip, ports, sharing) {
    const existing = this.sharingKeyForIP.get(ip);
    if (existing !== undefined) {
      if (existing === '' || sharing === '' || existing !== sharing) {
        for (const other of this.servicesOnIP.get(ip) ?? []) if (other !== svc) return false;
      }
      const used = this.portsInUse.get(ip);
      for (const p of ports) {
        const cur = used?.get(p);
        if (cur !== undefined && cur !== svc) return false;
      }
    }
    return true;
  }

  assign(svc, ip, ports = [], sharing = '') {
    const parsed = parseIp(ip);
    let pool;
    for (const [name, cidrs] of this.pools) {
      if (cidrs.some((c) => c.family === parsed.family && c.first <= parsed.value && parsed.value <= c.last))
        pool = name;
    }
    if (pool === undefined) throw new Error(`"${ip}" is not allowed in config`);
    if (!this.checkSharing(svc, ip, ports, sharing)) throw new Error('sharing');
    this.unassign(svc);
    this.allocated.set(svc, { pool, ip, ports, sharing });
    this.sharingKeyForIP.set(ip, sharing);
    if (!this.portsInUse.has(ip)) this.portsInUse.set(ip, new Map());
    for (const p of ports) this.portsInUse.get(ip).set(p, svc);
    if (!this.servicesOnIP.has(ip)) this.servicesOnIP.set(ip, new Set());
    this.servicesOnIP.get(ip).add(svc);
    return ip;
  }

  unassign(svc) {
    const a = this.allocated.get(svc);
    if (a === undefined) return false;
    this.allocated.delete(svc);
    const ports = this.portsInUse.get(a.ip);
    for (const p of a.ports) ports?.delete(p);
    this.servicesOnIP.get(a.ip)?.delete(svc);
    if (this.servicesOnIP.get(a.ip)?.size === 0) {
      this.servicesOnIP.delete(a.ip);
      this.portsInUse.delete(a.ip);
      this.sharingKeyForIP.delete(a.ip);
    }
    return true;
  }

  allocateFromPool(svc, family, pool, ports = [], sharing = '') {
    for (const c of this.pools.get(pool)) {
      if (c.family !== family) continue;
      for (let v = c.first; v <= c.last; v++) {
        const ip = formatIp(family, v);
        if (this.checkSharing(svc, ip, ports, sharing)) return this.assign(svc, ip, ports, sharing);
      }
    }
    throw new Error(`no available IPs in pool ${pool}`);
  }

  allocate(svc, family, ports = [], sharing = '') {
    for (const name of this.pools.keys()) {
      try {
        return this.allocateFromPool(svc, family, name, ports, sharing);
      } catch {}
    }
    throw new Error('no available IPs');
  }
}
