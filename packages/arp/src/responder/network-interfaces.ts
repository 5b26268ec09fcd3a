import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { formatIPv6 } from '../codec/address.js';

/** What the responder needs to know about a network interface. */
export interface NetInterface {
  /** Name, e.g. `eth0`. */
  name: string;
  /** Kernel ifindex. */
  index: number;
  /** Hardware address, lowercase. */
  mac: string;
  /** `IFF_*` flags (`/sys/class/net/<if>/flags`). */
  flags: number;
  /** ARPHRD type (1 = Ethernet). */
  type: number;
  /** True when enslaved to a bond or bridge (`/sys/class/net/<if>/master` exists). */
  enslaved: boolean;
  /** First IPv6 link-local address, if any. */
  ipv6LinkLocal?: string;
  /** Carrier up/down transitions so far (`/sys/class/net/<if>/carrier_changes`), when the kernel exposes it. */
  carrierChanges?: number;
}

/** Something that lists interfaces; injectable for tests. */
export interface InterfaceSource {
  /** Current interfaces of the network namespace. */
  list(): Promise<NetInterface[]>;
}

/** `IFF_UP`. */
export const IFF_UP = 0x1;
/** `IFF_BROADCAST`. */
export const IFF_BROADCAST = 0x2;
/** `IFF_NOARP`. */
export const IFF_NOARP = 0x80;

/**
 * MetalLB's default `announcedInterfacesToExclude` (config/native/exclude-l2-config.yaml).
 * @example `METALLB_EXCLUDED_INTERFACES.some((re) => re.test('docker0')) // true`
 */
export const METALLB_EXCLUDED_INTERFACES: readonly RegExp[] = [
  /^docker.*/,
  /^cbr.*/,
  /^dummy.*/,
  /^virbr.*/,
  /^lxcbr.*/,
  /^veth.*/,
  /^lo$/,
  /^cali.*/,
  /^tunl.*/,
  /^flannel.*/,
  /^kube-ipvs.*/,
  /^cni.*/,
  /^nodelocaldns.*/,
  /^lxc.*/,
];

/** Which protocols an interface is eligible for, or why it is skipped. */
export type Eligibility = { eligible: true; arp: boolean; ndp: boolean } | { eligible: false; reason: string };

/**
 * MetalLB's interface checks: skipped when down, enslaved (bond/bridge port), NOARP, or not Ethernet; the exclude list
 * applies only to interfaces not named explicitly. ARP needs IFF_BROADCAST. NDP is enabled on every eligible
 * interface (MetalLB requires a link-local address, issue #2685; we use the target address as NA source instead).
 * @example `interfaceEligibility(eth0, { explicit: false, exclude: METALLB_EXCLUDED_INTERFACES })`
 */
export function interfaceEligibility(
  i: NetInterface,
  opts: { explicit: boolean; exclude: readonly RegExp[] },
): Eligibility {
  if (!opts.explicit && opts.exclude.some((re) => re.test(i.name))) return { eligible: false, reason: 'excluded' };
  if (i.type !== 1) return { eligible: false, reason: `link type ${i.type} is not Ethernet` };
  if ((i.flags & IFF_UP) === 0) return { eligible: false, reason: 'down' };
  if (i.enslaved) return { eligible: false, reason: 'enslaved' };
  if ((i.flags & IFF_NOARP) !== 0) return { eligible: false, reason: 'NOARP' };
  return { eligible: true, arp: (i.flags & IFF_BROADCAST) !== 0, ndp: true };
}

/**
 * Lists interfaces from `/sys/class/net` and `/proc/net/if_inet6` (the network namespace of the process; `ip netns
 * exec` remounts /sys for it). Polling these files is cheap (≈0.1 ms for a few interfaces) and needs no privilege,
 * which is why the responder polls rather than subscribing to rtnetlink.
 * @example `for (const i of await linuxInterfaces().list()) console.log(i.name, i.mac);`
 */
export function linuxInterfaces(root = '/sys/class/net', inet6 = '/proc/net/if_inet6'): InterfaceSource {
  return {
    async list() {
      const linkLocal = new Map<string, string>();
      try {
        for (const line of readFileSync(inet6, 'utf8').split('\n')) {
          const f = line.trim().split(/\s+/);
          if (f.length < 6 || !f[0]!.startsWith('fe80') || linkLocal.has(f[5]!)) continue;
          const b = Uint8Array.from(f[0]!.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
          if (b.length === 16) linkLocal.set(f[5]!, formatIPv6(b));
        }
      } catch {
        /* no IPv6 */
      }
      const out: NetInterface[] = [];
      let names: string[];
      try {
        names = readdirSync(root);
      } catch {
        return out;
      }
      for (const name of names) {
        try {
          const read = (f: string) => readFileSync(`${root}/${name}/${f}`, 'utf8').trim();
          const i: NetInterface = {
            name,
            index: Number(read('ifindex')),
            mac: read('address').toLowerCase(),
            flags: Number.parseInt(read('flags'), 16),
            type: Number(read('type')),
            enslaved: existsSync(`${root}/${name}/master`),
          };
          const ll = linkLocal.get(name);
          if (ll) i.ipv6LinkLocal = ll;
          try {
            i.carrierChanges = Number(read('carrier_changes'));
          } catch {
            /* older kernels */
          }
          out.push(i);
        } catch {
          /* vanished while reading */
        }
      }
      return out;
    },
  };
}
