import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createBgpSpeakerBackend } from '../src/backends/bgp-speaker-backend.js';
import { type NeighborDiscovery, UnnumberedNeighbors } from '../src/backends/unnumbered-neighbors.js';
import type { BGPPeer } from '../src/config/resources.js';
import { createLogger } from '../src/logger.js';

const log = createLogger({ level: 'error' });
const ROUTER = 'fe80::9468:b8ff:fe5b:c8cb';

/** A discovery the test drives: `hear` is a router advertisement arriving. */
class FakeDiscovery extends EventEmitter implements NeighborDiscovery {
  neighbor: string | undefined;
  closed = false;
  constructor(
    readonly ifname: string,
    private readonly fail?: Error,
  ) {
    super();
  }
  async start(): Promise<void> {
    if (this.fail) throw this.fail;
  }
  /** An advertisement from `address`: the first router, or (`replace`) one replacing a silent neighbour. */
  hear(address: string, replace = false): void {
    if (this.neighbor !== undefined && !replace) return;
    this.neighbor = address;
    this.emit('neighbor', address);
  }
  close(): void {
    this.closed = true;
  }
}

function fakes(fail?: Error) {
  const made: FakeDiscovery[] = [];
  const neighbors = new UnnumberedNeighbors(log, (ifname) => {
    const d = new FakeDiscovery(ifname, fail);
    made.push(d);
    return d;
  });
  return { made, neighbors };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('UnnumberedNeighbors', () => {
  it('shares one discovery per interface and stops it with its last user', async () => {
    const { made, neighbors } = fakes();
    const a = neighbors.neighbor('eth1', 'a');
    const b = neighbors.neighbor('eth1', 'b');
    await tick();
    expect(made.map((d) => d.ifname)).toEqual(['eth1']);
    made[0]?.hear(ROUTER);
    await expect(a).resolves.toBe(`${ROUTER}%eth1`);
    await expect(b).resolves.toBe(`${ROUTER}%eth1`);
    // a later user gets the address at once
    await expect(neighbors.neighbor('eth1', 'c')).resolves.toBe(`${ROUTER}%eth1`);
    neighbors.release('eth1', 'a');
    neighbors.release('eth1', 'b');
    expect(made[0]?.closed).toBe(false);
    neighbors.release('eth1', 'c');
    expect(made[0]?.closed).toBe(true);
  });

  it('rejects when the discovery cannot start, and tries again on the next call', async () => {
    const { made, neighbors } = fakes(new Error('EPERM: needs CAP_NET_RAW'));
    await expect(neighbors.neighbor('eth1', 'a')).rejects.toThrow(/CAP_NET_RAW/);
    await expect(neighbors.neighbor('eth1', 'a')).rejects.toThrow(/CAP_NET_RAW/);
    expect(made.length).toBe(2);
    expect(made.every((d) => d.closed)).toBe(true);
  });
});

describe('createBgpSpeakerBackend with a BGPPeer interface', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  const peer: BGPPeer = {
    name: 'tor',
    myASN: 64513,
    peerASN: 0,
    dynamicASN: 'external',
    peerAddress: '',
    interface: 'lo',
    peerPort: 179,
    holdTime: 90,
    keepaliveTime: 30,
    nodeSelectors: [],
    enableGracefulRestart: false,
    ebgpMultiHop: false,
  };

  it('adds the session once the neighbour is heard, at its scoped link-local address, and releases it on removal', async () => {
    const { made, neighbors } = fakes();
    const backend = createBgpSpeakerBackend({ routerId: '192.0.2.1', log, unnumbered: neighbors });
    closers.push(() => backend.close());
    backend.setPeers([peer]);
    await tick();
    expect(backend.peers()).toEqual([]);
    expect(made.map((d) => d.ifname)).toEqual(['lo']);
    made[0]?.hear(ROUTER);
    await tick();
    expect(backend.peers()).toMatchObject([{ name: 'tor', address: `${ROUTER}%lo:179` }]);
    // the same configuration again changes nothing
    backend.setPeers([peer]);
    expect(backend.peers()).toHaveLength(1);
    expect(made).toHaveLength(1);
    backend.setPeers([]);
    expect(backend.peers()).toEqual([]);
    expect(made[0]?.closed).toBe(true);
  });

  it('moves the session to the new address when the router on the link is replaced', async () => {
    const { made, neighbors } = fakes();
    const backend = createBgpSpeakerBackend({ routerId: '192.0.2.1', log, unnumbered: neighbors });
    closers.push(() => backend.close());
    backend.setPeers([peer]);
    await tick();
    made[0]?.hear(ROUTER);
    await tick();
    made[0]?.hear('fe80::2', true);
    expect(backend.peers()).toMatchObject([{ name: 'tor', address: 'fe80::2%lo:179' }]);
    // the configuration is unchanged: the next setPeers keeps the moved session
    backend.setPeers([peer]);
    expect(backend.peers()).toMatchObject([{ name: 'tor', address: 'fe80::2%lo:179' }]);
  });

  it('drops a peer removed before its neighbour was heard', async () => {
    const { made, neighbors } = fakes();
    const backend = createBgpSpeakerBackend({ routerId: '192.0.2.1', log, unnumbered: neighbors });
    closers.push(() => backend.close());
    backend.setPeers([peer]);
    await tick();
    backend.setPeers([]);
    expect(made[0]?.closed).toBe(true);
    made[0]?.hear(ROUTER);
    await tick();
    expect(backend.peers()).toEqual([]);
  });
});
