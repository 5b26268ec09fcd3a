import { LinkLocalDiscovery } from '@ingot/bgp';
import type { Logger } from '../logger.js';

/** What {@link UnnumberedNeighbors} needs of a discovery (a `LinkLocalDiscovery`; tests pass a fake). */
export interface NeighborDiscovery {
  readonly neighbor: string | undefined;
  start(): Promise<void>;
  once(event: 'neighbor', fn: (address: string) => void): unknown;
  on(event: 'neighbor', fn: (address: string) => void): unknown;
  on(event: 'warning', fn: (message: string, error?: Error) => void): unknown;
  close(): void;
}

interface Entry {
  discovery: NeighborDiscovery;
  users: Set<string>;
  started: Promise<void>;
}

/**
 * The neighbours of the BGPPeers with `interface` (BGP unnumbered): one discovery per interface, shared by the peers on
 * it, advertising us on the link for as long as one of them is configured.
 */
export class UnnumberedNeighbors {
  private readonly entries = new Map<string, Entry>();
  private readonly changeListeners: ((ifname: string, address: string) => void)[] = [];

  /**
   * @param log logger
   * @param create makes the discovery of an interface (default: a `LinkLocalDiscovery` with FRR's 10 s interval)
   */
  constructor(
    private readonly log: Logger,
    private readonly create: (ifname: string) => NeighborDiscovery = (ifname) =>
      new LinkLocalDiscovery({ interface: ifname }),
  ) {}

  /**
   * Resolves with the scoped link-local address (`fe80::1%eth1`) of the router on `ifname` once it is heard, starting
   * the interface's discovery for `user` (a BGPPeer name) if needed. Rejects when the discovery cannot start (no such
   * interface, no CAP_NET_RAW).
   */
  async neighbor(ifname: string, user: string): Promise<string> {
    let e = this.entries.get(ifname);
    if (!e) {
      const discovery = this.create(ifname);
      discovery.on('warning', (message, error) =>
        this.log.warn('bgp unnumbered', { interface: ifname, message, error: error?.message }),
      );
      let known: string | undefined;
      discovery.on('neighbor', (address) => {
        if (known !== undefined && address !== known)
          for (const fn of this.changeListeners) fn(ifname, `${address}%${ifname}`);
        known = address;
      });
      e = { discovery, users: new Set(), started: discovery.start() };
      this.entries.set(ifname, e);
    }
    e.users.add(user);
    const { discovery } = e;
    try {
      await e.started;
    } catch (err) {
      this.release(ifname, user);
      throw err;
    }
    const address = discovery.neighbor ?? (await new Promise<string>((resolve) => discovery.once('neighbor', resolve)));
    return `${address}%${ifname}`;
  }

  /**
   * Calls `fn` with the new scoped address when the router on an interface was replaced (the old one silent for the
   * discovery's neighbour timeout, another one heard).
   */
  onChange(fn: (ifname: string, address: string) => void): void {
    this.changeListeners.push(fn);
  }

  /** `user` no longer needs `ifname`: its discovery stops with its last user. */
  release(ifname: string, user: string): void {
    const e = this.entries.get(ifname);
    if (!e?.users.delete(user) || e.users.size > 0) return;
    e.discovery.close();
    this.entries.delete(ifname);
  }

  /** Stops every discovery. */
  close(): void {
    for (const e of this.entries.values()) e.discovery.close();
    this.entries.clear();
  }
}
