import { randomBytes } from 'node:crypto';
import { execCommand, runCommand } from './command.js';
import { type HostInfo, type LabHost, NamespaceHost, type ProcessOwner } from './host.js';
import type { LabProcess } from './lab-process.js';
import { trackNamespace, untrackNamespace } from './registry.js';

let counter = 0;

/**
 * A unique, short namespace-name stem for this process and call: optional tag, pid and counter in base 36, and two
 * random bytes (so two test runs with recycled PIDs cannot collide either), e.g. `igbgp-1k3z2f9`.
 */
export function uniqueStem(tag?: string): string {
  counter += 1;
  const clean = (tag ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 8);
  return `ig${clean}${clean ? '-' : ''}${process.pid.toString(36)}${counter.toString(36)}${randomBytes(2).toString('hex')}`;
}

/** Sysctls applied to a namespace before any interface is created in it (see README, traps). */
export const NAMESPACE_SYSCTLS = [
  'net.ipv6.conf.all.accept_dad=0',
  'net.ipv6.conf.default.accept_dad=0',
  'net.ipv6.conf.all.keep_addr_on_down=1',
  'net.ipv6.conf.default.keep_addr_on_down=1',
];

/** Something with an async cleanup step run by {@link Topology.destroy} (before namespaces are deleted). */
export type Disposer = () => Promise<void>;

/**
 * Base of every topology: owns its namespaces, the processes started in them and extra disposers (BGP peers,
 * captures). `destroy()` runs disposers (newest first), stops processes by PID, then deletes the namespaces.
 */
export class Topology implements ProcessOwner {
  /** Namespaces of this topology, in creation order. */
  readonly namespaces: string[] = [];
  private readonly processes = new Set<LabProcess>();
  private readonly disposers: Disposer[] = [];
  private destroying: Promise<void> | undefined;

  get destroyed(): boolean {
    return this.destroying !== undefined;
  }

  /** Track a process started in one of this topology's hosts (called by LabHost.spawn / fork). */
  adopt(proc: LabProcess): void {
    this.processes.add(proc);
    proc.child.once('exit', () => this.processes.delete(proc));
  }

  /** Register an async cleanup step run on destroy before processes are killed and namespaces deleted. */
  onDestroy(fn: Disposer): void {
    this.disposers.push(fn);
  }

  /** Create a namespace with the lab's sysctls and lo up, tracked for cleanup. */
  async addNamespace(ns: string): Promise<void> {
    // Registered only once created: a name that already existed (never expected) is not ours to delete.
    await runCommand('ip', ['netns', 'add', ns], { timeoutMs: 10_000 });
    trackNamespace(ns);
    this.namespaces.push(ns);
    await runCommand('ip', ['netns', 'exec', ns, 'sysctl', '-qw', ...NAMESPACE_SYSCTLS], { timeoutMs: 10_000 });
    await runCommand('ip', ['-n', ns, 'link', 'set', 'lo', 'up'], { timeoutMs: 10_000 });
  }

  /** Stop everything and delete the namespaces. Idempotent; errors of individual steps are collected and thrown. */
  destroy(): Promise<void> {
    this.destroying ??= this.doDestroy();
    return this.destroying;
  }

  private async doDestroy(): Promise<void> {
    const errors: string[] = [];
    for (const fn of this.disposers.splice(0).reverse()) {
      try {
        await fn();
      } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
      }
    }
    await Promise.all([...this.processes].map((p) => p.stop()));
    for (const ns of this.namespaces) {
      const r = await execCommand('ip', ['netns', 'del', ns], { timeoutMs: 10_000 });
      if (r.code === 0 || /No such file/.test(r.stderr)) untrackNamespace(ns);
      else errors.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
    }
    if (errors.length > 0) throw new Error(`lab: destroy finished with errors:\n${errors.join('\n')}`);
  }
}

/** Split 'ADDR/LEN' into its parts (default length when absent). */
export function splitCidr(cidr: string, defaultLength: number): { address: string; length: number } {
  const [address, len] = cidr.split('/');
  const length = len === undefined ? defaultLength : Number(len);
  if (!address || !Number.isInteger(length)) throw new Error(`lab: bad address ${cidr}`);
  return { address, length };
}

/** Read MAC and ifindex of an interface in a namespace. */
export async function readLink(ns: string, ifname: string): Promise<{ mac: string; ifindex: number }> {
  const out = await runCommand('ip', ['-n', ns, '-j', 'link', 'show', 'dev', ifname], { timeoutMs: 10_000 });
  const [link] = JSON.parse(out) as { address: string; ifindex: number }[];
  if (!link) throw new Error(`lab: ${ifname} not found in ${ns}`);
  return { mac: link.address.toLowerCase(), ifindex: link.ifindex };
}

async function configureHost(
  topology: Topology,
  ns: string,
  ifname: string,
  cidr4: string,
  cidr6: string,
): Promise<NamespaceHost> {
  const v4 = splitCidr(cidr4, 24);
  const v6 = splitCidr(cidr6, 64);
  await runCommand('ip', ['-n', ns, '-batch', '-'], {
    input:
      `addr add ${v4.address}/${v4.length} dev ${ifname}\n` +
      `addr add ${v6.address}/${v6.length} dev ${ifname} nodad\n` +
      `link set ${ifname} up\n`,
    timeoutMs: 10_000,
  });
  const link = await readLink(ns, ifname);
  const info: HostInfo = {
    ns,
    ifname,
    ipv4: v4.address,
    ipv6: v6.address,
    ipv4PrefixLength: v4.length,
    ipv6PrefixLength: v6.length,
    ...link,
  };
  return new NamespaceHost(info, topology);
}

/** Options of {@link createPair}: addresses in CIDR form (prefix length optional: /24 and /64 by default). */
export interface PairOptions {
  /** A short tag included in the namespace names (they stay unique per run and call). */
  name?: string;
  a4?: string;
  b4?: string;
  a6?: string;
  b6?: string;
}

/** Two namespaces joined by a veth pair (`veth-a` in `a`, `veth-b` in `b`). */
export class Pair extends Topology {
  a!: LabHost;
  b!: LabHost;
}

/**
 * Two namespaces joined by a veth pair: a (veth-a, 192.0.2.1/24, 2001:db8:0:1::1/64) and b (veth-b, 192.0.2.2/24,
 * 2001:db8:0:1::2/64), IPv6 without DAD, addresses kept on link down, lo up in both. Destroyed by `destroy()` or at
 * process exit. On a failure half-way, whatever was created is removed before the error is thrown.
 */
export async function createPair(opts: PairOptions = {}): Promise<Pair> {
  const stem = uniqueStem(opts.name);
  const pair = new Pair();
  const nsA = `${stem}-a`;
  const nsB = `${stem}-b`;
  try {
    await Promise.all([pair.addNamespace(nsA), pair.addNamespace(nsB)]);
    await runCommand(
      'ip',
      ['-n', nsA, 'link', 'add', 'veth-a', 'type', 'veth', 'peer', 'name', 'veth-b', 'netns', nsB],
      {
        timeoutMs: 10_000,
      },
    );
    const [a, b] = await Promise.all([
      configureHost(pair, nsA, 'veth-a', opts.a4 ?? '192.0.2.1/24', opts.a6 ?? '2001:db8:0:1::1/64'),
      configureHost(pair, nsB, 'veth-b', opts.b4 ?? '192.0.2.2/24', opts.b6 ?? '2001:db8:0:1::2/64'),
    ]);
    pair.a = a;
    pair.b = b;
    return pair;
  } catch (e) {
    await pair.destroy().catch(() => {});
    throw e;
  }
}

/** Options of {@link createLan}. */
export interface LanOptions {
  /** A short tag included in the namespace names. */
  name?: string;
}

/** A bridge LAN: `router` holds br0, each of `hosts` has eth0 attached to it. */
export class Lan extends Topology {
  router!: LabHost;
  hosts: LabHost[] = [];
}

/**
 * A bridged LAN: namespace `router` with bridge br0 (192.0.2.254/24, 2001:db8:0:1::fe/64) and `count` hosts
 * (1..200) whose eth0 is 192.0.2.<i>/24 and 2001:db8:0:1::<i>/64 (i = 1..count, hex for IPv6 as written).
 */
export async function createLan(count: number, opts: LanOptions = {}): Promise<Lan> {
  if (!Number.isInteger(count) || count < 1 || count > 200)
    throw new Error(`lab: createLan count ${count} not in 1..200`);
  const stem = uniqueStem(opts.name);
  const lan = new Lan();
  const nsR = `${stem}-r`;
  try {
    await lan.addNamespace(nsR);
    await runCommand('ip', ['-n', nsR, 'link', 'add', 'br0', 'type', 'bridge'], { timeoutMs: 10_000 });
    const names = Array.from({ length: count }, (_, i) => `${stem}-n${i + 1}`);
    await Promise.all(names.map((ns) => lan.addNamespace(ns)));
    let batch = '';
    names.forEach((ns, i) => {
      batch += `link add p${i + 1} type veth peer name eth0 netns ${ns}\n`;
      batch += `link set p${i + 1} master br0\nlink set p${i + 1} up\n`;
    });
    await runCommand('ip', ['-n', nsR, '-batch', '-'], { input: batch, timeoutMs: 20_000 });
    lan.router = await configureHost(lan, nsR, 'br0', '192.0.2.254/24', '2001:db8:0:1::fe/64');
    lan.hosts = await Promise.all(
      names.map((ns, i) => configureHost(lan, ns, 'eth0', `192.0.2.${i + 1}/24`, `2001:db8:0:1::${i + 1}/64`)),
    );
    return lan;
  } catch (e) {
    await lan.destroy().catch(() => {});
    throw e;
  }
}
