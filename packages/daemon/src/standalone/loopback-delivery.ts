import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { formatIp, parseIp } from '@ingot/allocator';
import type { LocalDelivery } from '../daemon.js';
import type { Logger } from '../logger.js';

/** Label of the IPv4 addresses the daemon adds to `lo`, so a restart can find its own leftovers. */
export const LOOPBACK_LABEL = 'lo:ingot';

/** Runs `ip` with arguments (and standard input, for `-batch -`); resolves with stdout, rejects with stderr. */
export type IpRunner = (args: string[], input?: string) => Promise<string>;

/** Options of {@link LoopbackDelivery}. */
export interface LoopbackDeliveryOptions {
  /** Logger. */
  log: Logger;
  /** `ip` runner. @default execFile('ip', args) */
  ip?: IpRunner;
  /** Writes a sysctl (`/proc/sys/...` path, value). @default writeFileSync */
  writeSysctl?: (path: string, value: string) => void;
  /**
   * Whether an IPv6 /128 found on `lo` at start is a service IP a previous run left (IPv6 addresses cannot carry a
   * label with iproute2 6.1); the daemon answers "inside a configured pool". @default none are
   */
  isServiceIp?: (ip: string) => boolean;
  /**
   * `local` (default): every IP on `lo`. `interface`: an IP this node owns over layer 2 goes on the interface that
   * reaches it (the kernel answers ARP/NDP for it there, as with keepalived and kube-vip); BGP-only and draining IPs
   * stay on `lo`. Leftovers of an earlier run on other interfaces are found with {@link isServiceIp}.
   */
  mode?: 'local' | 'interface';
  /** `interface` mode: the node's announcing interfaces (Node `spec.interfaces`), when an L2Advertisement names none. */
  interfaces?: readonly string[];
}

/** One address change of a plan: add or remove `ip` (`/32`, `/128`) on `dev`. */
export interface AddressChange {
  /** Add or delete. */
  op: 'add' | 'del';
  /** Canonical IP. */
  ip: string;
  /** Device (`lo` or the announcing interface). */
  dev: string;
}

/**
 * The changes that take the addresses from `present` to `wanted` (IP -> device), in the order they must be applied:
 * first the removals from announcing interfaces (a handed-over IP stops being answered by the kernel before anything
 * else), then the additions (`lo` first, so a draining IP is still accepted), then the removals from `lo` (an IP that
 * moves from `lo` to its interface is never absent). Pure.
 */
export function planAddressChanges(
  present: ReadonlyMap<string, string>,
  wanted: ReadonlyMap<string, string>,
): AddressChange[] {
  const delIf: AddressChange[] = [];
  const delLo: AddressChange[] = [];
  const addLo: AddressChange[] = [];
  const addIf: AddressChange[] = [];
  for (const [ip, dev] of present)
    if (wanted.get(ip) !== dev) (dev === 'lo' ? delLo : delIf).push({ op: 'del', ip, dev });
  for (const [ip, dev] of wanted)
    if (present.get(ip) !== dev) (dev === 'lo' ? addLo : addIf).push({ op: 'add', ip, dev });
  return [...delIf, ...addLo, ...addIf, ...delLo];
}

const defaultIp: IpRunner = (args, input) =>
  new Promise((resolve, reject) => {
    const child = execFile('ip', args, { timeout: 10_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(stderr.trim() || err.message));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });

/** Canonical text of an IP, so `ip`'s output and our own addresses compare equal. */
function canonical(ip: string): string {
  const parsed = parseIp(ip);
  return parsed ? formatIp(parsed.family, parsed.value) : ip;
}

/**
 * The standalone data path: every service IP this node announces is added to `lo` (`/32`, `/128`), so the kernel
 * accepts its traffic and local servers bound to the wildcard address answer. `arp_ignore=1` and `arp_announce=2`
 * stop the kernel from answering ARP for those addresses itself or using them as ARP sources (only the elected owner
 * answers, through `@ingot/arp`). IPv6 needs nothing: Linux answers neighbour solicitations only for addresses on the
 * receiving interface. In `interface` mode the IPs owned over layer 2 go on their announcing interface instead, where
 * the kernel answers ARP/NDP itself. Needs CAP_NET_ADMIN. Changes are applied one at a time in order; failures are
 * logged, and retried by the next sync.
 */
export class LoopbackDelivery implements LocalDelivery {
  /** IP -> device it is on by our hand. */
  private readonly present = new Map<string, string>();
  private wanted = new Map<string, string>();
  /** The last sync's request: every IP (on `lo`), and the layer-2 owned ones with their interfaces. */
  private requested: { ips: string[]; layer2: [string, readonly string[]][] } = { ips: [], layer2: [] };
  private chain: Promise<void> = Promise.resolve();
  private readonly ip: IpRunner;
  private readonly mode: 'local' | 'interface';

  constructor(private readonly options: LoopbackDeliveryOptions) {
    this.ip = options.ip ?? defaultIp;
    this.mode = options.mode ?? 'local';
  }

  /**
   * Sets the ARP sysctls and removes addresses a previous run left on `lo` (IPv4 ones carry {@link LOOPBACK_LABEL})
   * and, in `interface` mode, on the other interfaces.
   * @throws when the sysctls cannot be written (no CAP_NET_ADMIN / read-only /proc).
   */
  async start(): Promise<void> {
    const write = this.options.writeSysctl ?? ((path: string, value: string) => writeFileSync(path, value));
    try {
      write('/proc/sys/net/ipv4/conf/all/arp_ignore', '1');
      write('/proc/sys/net/ipv4/conf/all/arp_announce', '2');
    } catch (err) {
      throw new Error(
        `local data path: cannot set net.ipv4.conf.all.arp_ignore/arp_announce (${(err as Error).message}); ` +
          'it needs CAP_NET_ADMIN and a writable /proc/sys, or set the Node spec.dataPath: none (--data-path none)',
      );
    }
    const out = await this.ip(['-4', '-o', 'addr', 'show', 'dev', 'lo', 'label', LOOPBACK_LABEL]).catch(() => '');
    for (const m of out.matchAll(/inet (\S+)\/32/g)) this.present.set(m[1] as string, 'lo');
    const out6 = await this.ip(['-6', '-o', 'addr', 'show', 'dev', 'lo', 'scope', 'global']).catch(() => '');
    for (const m of out6.matchAll(/inet6 (\S+)\/128/g))
      if (this.options.isServiceIp?.(m[1] as string)) this.present.set(m[1] as string, 'lo');
    if (this.mode === 'interface') {
      const all = await this.ip(['-o', 'addr', 'show', 'scope', 'global']).catch(() => '');
      for (const m of all.matchAll(/^\d+:\s+(\S+)\s+inet6? ([^/\s]+)\/(32|128)\b/gm)) {
        const [dev, ip] = [m[1] as string, canonical(m[2] as string)];
        if (dev !== 'lo' && this.options.isServiceIp?.(ip)) this.present.set(ip, dev);
      }
    }
    this.options.log.info('local data path ready', {
      mode: this.mode,
      arp_ignore: 1,
      arp_announce: 2,
      leftovers: [...this.present].map(([ip, dev]) => `${ip} ${dev}`),
    });
  }

  /**
   * Converges the addresses to exactly `ips`: on `lo`, or in `interface` mode the ones in `layer2` (IP -> the
   * L2Advertisement's interfaces, empty = any) on the interface that reaches them. Resolves when every change asked
   * for so far has been attempted, so the caller can start answering ARP for a new IP only once the node accepts its
   * traffic.
   */
  sync(ips: readonly string[], layer2?: ReadonlyMap<string, readonly string[]>): Promise<void> {
    this.requested = { ips: ips.map(canonical), layer2: this.mode === 'interface' ? [...(layer2 ?? [])] : [] };
    this.chain = this.chain.then(() => this.resolveAndApply());
    return this.chain;
  }

  /** Resolves when every requested change has been attempted. */
  settled(): Promise<void> {
    return this.chain;
  }

  /** IPs currently added by our hand (on `lo` or an interface). */
  addresses(): string[] {
    return [...this.present.keys()];
  }

  /** Where each IP added by our hand is: IP -> device. */
  devices(): Map<string, string> {
    return new Map(this.present);
  }

  /** Removes every address this daemon added. */
  async close(): Promise<void> {
    this.requested = { ips: [], layer2: [] };
    this.chain = this.chain.then(() => this.resolveAndApply());
    await this.chain;
  }

  /** Places the last requested IPs (syncs queued back to back coalesce into the last one) and applies the plan. */
  private async resolveAndApply(): Promise<void> {
    const { ips, layer2 } = this.requested;
    const wanted = new Map<string, string>();
    for (const ip of ips) wanted.set(ip, 'lo');
    for (const [ip, interfaces] of layer2) {
      const c = canonical(ip);
      if (wanted.has(c)) wanted.set(c, await this.deviceFor(c, interfaces));
    }
    this.wanted = wanted;
    await this.apply();
  }

  /**
   * The interface an owned IP goes on: where it is already (not `lo`), else the one the main routing table reaches
   * it through ({@link routedDevice}) if the L2Advertisement (else the Node) allows it, else the first allowed one.
   * (Not `ip route get`: for an IP already on `lo` it answers `local ... dev lo`.) `lo` when none is
   * found (logged): the responder still answers.
   */
  private async deviceFor(ip: string, advertised: readonly string[]): Promise<string> {
    const interfaces = advertised.length > 0 ? advertised : (this.options.interfaces ?? []);
    const now = this.present.get(ip);
    if (now !== undefined && now !== 'lo' && (interfaces.length === 0 || interfaces.includes(now))) return now;
    let routed: string | undefined;
    try {
      routed = routedDevice(
        await this.ip([isIP(ip) === 6 ? '-6' : '-4', '-o', 'route', 'show', 'table', 'main', 'match', ip]),
      );
    } catch {}
    if (routed !== undefined && routed !== 'lo' && (interfaces.length === 0 || interfaces.includes(routed)))
      return routed;
    if (interfaces[0] !== undefined) return interfaces[0];
    this.options.log.warn('no interface reaches this service IP; it stays on lo (the responder answers for it)', {
      ip,
    });
    return 'lo';
  }

  private async apply(): Promise<void> {
    const changes = planAddressChanges(this.present, this.wanted);
    if (changes.length === 1) await this.change(changes[0] as AddressChange);
    else if (changes.length > 1) await this.changeBatch(changes);
  }

  /**
   * Many changes (start-up, a stop, a failover of many IPs) in one `ip -force -batch -`, then the outcome read back:
   * one process instead of one per IP.
   */
  private async changeBatch(changes: AddressChange[]): Promise<void> {
    const script = changes.map((c) => `${addrArgs(c).slice(1).join(' ')}\n`).join('');
    const failed = await this.ip(['-force', '-batch', '-'], script).then(
      () => undefined,
      (err: Error) => err.message,
    );
    let found: Set<string>;
    try {
      const out = await this.ip(['-o', 'addr', 'show']);
      found = new Set(
        [...out.matchAll(/^\d+:\s+(\S+)\s+inet6? ([^/\s]+)\//gm)].map((m) => `${m[1]} ${canonical(m[2] as string)}`),
      );
    } catch (err) {
      this.options.log.warn('could not read the addresses back', { error: (err as Error).message });
      return;
    }
    const missed: string[] = [];
    for (const { op, ip, dev } of changes) {
      const there = found.has(`${dev} ${ip}`);
      if (there) this.present.set(ip, dev);
      else if (this.present.get(ip) === dev) this.present.delete(ip);
      if ((op === 'add') !== there) missed.push(`${op} ${ip} dev ${dev}`);
    }
    if (missed.length > 0)
      this.options.log.warn('some service IP address changes failed; retried on the next sync', {
        missed,
        error: failed,
      });
    this.options.log.debug('service IP addresses changed', { changes: changes.length });
  }

  private async change(c: AddressChange): Promise<void> {
    const { op, ip, dev } = c;
    try {
      await this.ip(addrArgs(c));
    } catch (err) {
      const message = (err as Error).message;
      // Already there / already gone: the goal is reached.
      // iproute2 says "File exists" (IPv4) or "address already assigned" (IPv6) for an address already there.
      const reached =
        op === 'add' ? /File exists|already assigned/i.test(message) : /Cannot assign|not found|No such/i.test(message);
      if (!reached) {
        this.options.log.warn(`could not ${op === 'add' ? 'add' : 'remove'} service IP on ${dev}`, {
          ip,
          error: message,
        });
        return;
      }
    }
    if (op === 'add') this.present.set(ip, dev);
    else if (this.present.get(ip) === dev) this.present.delete(ip);
    this.options.log.debug(op === 'add' ? `service IP added to ${dev}` : `service IP removed from ${dev}`, { ip });
  }
}

/**
 * The device of the most specific route in `ip -o route show table main match IP` output (`default` = /0, a prefix
 * without a length is a host route), or undefined when none names a device. Pure.
 */
export function routedDevice(routes: string): string | undefined {
  let best: { len: number; dev: string } | undefined;
  for (const line of routes.split('\n')) {
    const dest = line.trim().split(/\s+/)[0];
    const dev = /\bdev (\S+)/.exec(line)?.[1];
    if (!dest || !dev) continue;
    const len =
      dest === 'default' ? 0 : dest.includes('/') ? Number(dest.split('/')[1]) : dest.includes(':') ? 128 : 32;
    if (!best || len > best.len) best = { len, dev };
  }
  return best?.dev;
}

/**
 * `ip` arguments adding or removing one service IP (the first is the family flag). IPv6 without duplicate address
 * detection (`nodad`): the address is usable at once and DAD's probe would not tell the owner anything the election
 * has not decided. IPv4 on `lo` carries {@link LOOPBACK_LABEL}.
 */
function addrArgs({ op, ip, dev }: AddressChange): string[] {
  return isIP(ip) === 6
    ? ['-6', 'addr', op, `${ip}/128`, 'dev', dev, ...(op === 'add' ? ['nodad'] : [])]
    : ['-4', 'addr', op, `${ip}/32`, 'dev', dev, ...(op === 'add' && dev === 'lo' ? ['label', LOOPBACK_LABEL] : [])];
}
