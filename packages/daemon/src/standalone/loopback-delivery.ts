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
 * receiving interface. Needs CAP_NET_ADMIN. Changes are applied one at a time in order; failures are logged, and
 * retried by the next sync.
 */
export class LoopbackDelivery implements LocalDelivery {
  private readonly present = new Set<string>();
  private wanted = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private readonly ip: IpRunner;

  constructor(private readonly options: LoopbackDeliveryOptions) {
    this.ip = options.ip ?? defaultIp;
  }

  /**
   * Sets the ARP sysctls and removes addresses a previous run left on `lo` (IPv4 ones carry {@link LOOPBACK_LABEL}).
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
    for (const m of out.matchAll(/inet (\S+)\/32/g)) this.present.add(m[1] as string);
    const out6 = await this.ip(['-6', '-o', 'addr', 'show', 'dev', 'lo', 'scope', 'global']).catch(() => '');
    for (const m of out6.matchAll(/inet6 (\S+)\/128/g))
      if (this.options.isServiceIp?.(m[1] as string)) this.present.add(m[1] as string);
    this.options.log.info('local data path ready', { arp_ignore: 1, arp_announce: 2, leftovers: [...this.present] });
  }

  /**
   * Converges `lo` to exactly `ips`. Resolves when every change asked for so far has been attempted, so the caller can
   * start answering ARP for a new IP only once the node accepts its traffic.
   */
  sync(ips: readonly string[]): Promise<void> {
    this.wanted = new Set(ips.map(canonical));
    this.chain = this.chain.then(() => this.apply());
    return this.chain;
  }

  /** Resolves when every requested change has been attempted. */
  settled(): Promise<void> {
    return this.chain;
  }

  /** IPs currently on `lo` by our hand. */
  addresses(): string[] {
    return [...this.present];
  }

  /** Removes every address this daemon added. */
  async close(): Promise<void> {
    this.wanted = new Set();
    this.chain = this.chain.then(() => this.apply());
    await this.chain;
  }

  private async apply(): Promise<void> {
    const changes: ['add' | 'del', string][] = [];
    for (const ip of this.present) if (!this.wanted.has(ip)) changes.push(['del', ip]);
    for (const ip of this.wanted) if (!this.present.has(ip)) changes.push(['add', ip]);
    if (changes.length === 1) await this.change(...(changes[0] as ['add' | 'del', string]));
    else if (changes.length > 1) await this.changeBatch(changes);
  }

  /**
   * Many changes (start-up, a stop, a failover of many IPs) in one `ip -force -batch -`, then the outcome read back
   * from `lo`: one process instead of one per IP.
   */
  private async changeBatch(changes: ['add' | 'del', string][]): Promise<void> {
    const script = changes.map(([op, ip]) => `${addrArgs(op, ip).slice(1).join(' ')}\n`).join('');
    const failed = await this.ip(['-force', '-batch', '-'], script).then(
      () => undefined,
      (err: Error) => err.message,
    );
    let onLo: Set<string>;
    try {
      const out = await this.ip(['-o', 'addr', 'show', 'dev', 'lo']);
      onLo = new Set([...out.matchAll(/inet6? ([^/\s]+)\//g)].map((m) => canonical(m[1] as string)));
    } catch (err) {
      this.options.log.warn('could not read lo addresses back', { error: (err as Error).message });
      return;
    }
    const missed: string[] = [];
    for (const [op, ip] of changes) {
      if (onLo.has(ip)) this.present.add(ip);
      else this.present.delete(ip);
      if ((op === 'add') !== onLo.has(ip)) missed.push(`${op} ${ip}`);
    }
    if (missed.length > 0)
      this.options.log.warn('some service IP changes on lo failed; retried on the next sync', {
        missed,
        error: failed,
      });
    this.options.log.debug('service IPs on lo changed', { changes: changes.length });
  }

  private async change(op: 'add' | 'del', ip: string): Promise<void> {
    try {
      await this.ip(addrArgs(op, ip));
    } catch (err) {
      const message = (err as Error).message;
      // Already there / already gone: the goal is reached.
      // iproute2 says "File exists" (IPv4) or "address already assigned" (IPv6) for an address already there.
      const reached =
        op === 'add' ? /File exists|already assigned/i.test(message) : /Cannot assign|not found|No such/i.test(message);
      if (!reached) {
        this.options.log.warn(`could not ${op === 'add' ? 'add' : 'remove'} service IP on lo`, { ip, error: message });
        return;
      }
    }
    if (op === 'add') this.present.add(ip);
    else this.present.delete(ip);
    this.options.log.debug(op === 'add' ? 'service IP added to lo' : 'service IP removed from lo', { ip });
  }
}

/** `ip` arguments adding or removing one service IP on `lo` (the first is the family flag). */
function addrArgs(op: 'add' | 'del', ip: string): string[] {
  return isIP(ip) === 6
    ? ['-6', 'addr', op, `${ip}/128`, 'dev', 'lo', ...(op === 'add' ? ['nodad'] : [])]
    : ['-4', 'addr', op, `${ip}/32`, 'dev', 'lo', ...(op === 'add' ? ['label', LOOPBACK_LABEL] : [])];
}
