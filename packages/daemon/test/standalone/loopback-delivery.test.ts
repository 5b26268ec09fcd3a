import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import {
  LOOPBACK_LABEL,
  LoopbackDelivery,
  planAddressChanges,
  routedDevice,
} from '../../src/standalone/loopback-delivery.js';

const log = createLogger({ level: 'error', write: () => {} });

function fakeIp(leftovers = '', leftovers6 = '', isServiceIp?: (ip: string) => boolean) {
  const calls: string[] = [];
  const sysctls: Record<string, string> = {};
  const onLo = new Set<string>();
  /** Addresses whose add fails with EPERM. */
  const failing = new Set<string>();
  const one = (args: string[]) => {
    const [op, addr] = [args[1], args[2] as string];
    if (op === 'add') {
      if (failing.has(addr)) throw new Error('RTNETLINK answers: Operation not permitted');
      if (onLo.has(addr))
        throw new Error(
          addr.includes(':') ? 'Error: ipv6: address already assigned.' : 'RTNETLINK answers: File exists',
        );
      onLo.add(addr);
    } else if (!onLo.delete(addr)) throw new Error('RTNETLINK answers: Cannot assign requested address');
  };
  const delivery = new LoopbackDelivery({
    log,
    writeSysctl: (path, value) => {
      sysctls[path] = value;
    },
    ip: async (args, input) => {
      calls.push(args.join(' ') + (input ? `\n${input}` : ''));
      if (args[0] === '-force') {
        let error: Error | undefined;
        for (const line of (input ?? '').trim().split('\n')) {
          try {
            one(line.split(' '));
          } catch (err) {
            error = err as Error;
          }
        }
        if (error) throw error;
        return '';
      }
      if (args[0] === '-o')
        return [...onLo].map((a) => `1: lo    inet${a.includes(':') ? '6' : ''} ${a} scope global\n`).join('');
      if (args.includes('show')) return args[0] === '-6' ? leftovers6 : leftovers;
      one(args.slice(1));
      return '';
    },
    ...(isServiceIp ? { isServiceIp } : {}),
  });
  return { delivery, calls, sysctls, onLo, failing };
}

describe('LoopbackDelivery (standalone data path)', () => {
  it('sets arp_ignore=1 / arp_announce=2 and adopts leftovers labelled by a previous run', async () => {
    const f = fakeIp(`1: lo    inet 192.0.2.240/32 scope global ${LOOPBACK_LABEL}\\       valid_lft forever\n`);
    f.onLo.add('192.0.2.240/32');
    await f.delivery.start();
    expect(f.sysctls).toEqual({
      '/proc/sys/net/ipv4/conf/all/arp_ignore': '1',
      '/proc/sys/net/ipv4/conf/all/arp_announce': '2',
    });
    expect(f.delivery.addresses()).toEqual(['192.0.2.240']);
    f.delivery.sync([]);
    await f.delivery.settled();
    expect(f.calls.at(-1)).toBe('-4 addr del 192.0.2.240/32 dev lo');
    expect(f.delivery.addresses()).toEqual([]);
  });

  it('converges lo to the wanted set: /32 with a label for IPv4, /128 nodad for IPv6; idempotent', async () => {
    const f = fakeIp();
    await f.delivery.start();
    await f.delivery.sync(['192.0.2.240']);
    await f.delivery.sync(['192.0.2.240']);
    await f.delivery.sync(['192.0.2.240', '2001:db8:0:0::F0']);
    expect(f.calls.filter((c) => !c.includes('show'))).toEqual([
      `-4 addr add 192.0.2.240/32 dev lo label ${LOOPBACK_LABEL}`,
      '-6 addr add 2001:db8::f0/128 dev lo nodad',
    ]);
    // Syncs queued back to back coalesce: the first run already sees the last wanted set.
    f.calls.length = 0;
    f.delivery.sync(['192.0.2.240']);
    f.delivery.sync(['192.0.2.240', '2001:db8::f0']);
    await f.delivery.settled();
    expect(f.calls).toEqual([]);
    f.delivery.sync(['2001:db8::f0']);
    await f.delivery.settled();
    expect(f.delivery.addresses()).toEqual(['2001:db8::f0']);
    await f.delivery.close();
    expect(f.onLo.size).toBe(0);
  });

  it('treats "already there" as done and retries real failures on the next sync', async () => {
    const f = fakeIp();
    await f.delivery.start();
    f.onLo.add('192.0.2.241/32');
    f.failing.add('192.0.2.242/32');
    await f.delivery.sync(['192.0.2.241', '192.0.2.242']);
    expect(f.delivery.addresses()).toEqual(['192.0.2.241']);
    f.failing.clear();
    await f.delivery.sync(['192.0.2.241', '192.0.2.242']);
    expect(f.delivery.addresses().sort()).toEqual(['192.0.2.241', '192.0.2.242']);
  });

  it('applies many changes in one ip -batch and reads the outcome back from lo', async () => {
    const f = fakeIp();
    await f.delivery.start();
    const ips = Array.from({ length: 100 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`);
    f.failing.add('2001:db8::7/128');
    f.calls.length = 0;
    await f.delivery.sync(['192.0.2.250', ...ips]);
    expect(f.calls).toHaveLength(2);
    expect(f.calls[0]?.split('\n')[0]).toBe('-force -batch -');
    expect(f.calls[0]).toContain(
      `addr add 192.0.2.250/32 dev lo label ${LOOPBACK_LABEL}\naddr add 2001:db8::1/128 dev lo nodad`,
    );
    expect(f.delivery.addresses()).toHaveLength(100);
    expect(f.delivery.addresses()).not.toContain('2001:db8::7');
    await f.delivery.close();
    expect(f.onLo.size).toBe(0);
  });

  it('adopts IPv6 leftovers inside the pools (no labels on IPv6) and accepts "address already assigned"', async () => {
    const f = fakeIp(
      '',
      '1: lo    inet6 2001:db8::f0/128 scope global \\       valid_lft forever\n1: lo    inet6 2001:db8:ff::1/128 scope global \\\n',
      (ip) => ip.startsWith('2001:db8::'),
    );
    f.onLo.add('2001:db8::f0/128');
    f.onLo.add('2001:db8:ff::1/128');
    await f.delivery.start();
    expect(f.delivery.addresses()).toEqual(['2001:db8::f0']);
    await f.delivery.sync(['2001:db8::f1']);
    expect(f.onLo.has('2001:db8::f0/128')).toBe(false);
    expect(f.onLo.has('2001:db8:ff::1/128')).toBe(true); // not ours: left alone
    f.onLo.add('2001:db8::f2/128');
    await f.delivery.sync(['2001:db8::f1', '2001:db8::f2']);
    expect(f.delivery.addresses().sort()).toEqual(['2001:db8::f1', '2001:db8::f2']);
  });
});

describe('routedDevice', () => {
  it('takes the most specific route that names a device', () => {
    expect(routedDevice('default via 192.0.2.254 dev eth0 \n198.51.100.0/24 dev eth1 proto kernel scope link \n')).toBe(
      'eth1',
    );
    expect(routedDevice('198.51.100.7 dev eth2 \ndefault via 192.0.2.254 dev eth0\n198.51.100.0/24 dev eth1\n')).toBe(
      'eth2',
    );
    expect(routedDevice('default via fe80::1 dev eth3 proto ra metric 1024 pref medium\n')).toBe('eth3');
    expect(routedDevice('unreachable 198.51.100.0/24 \n')).toBeUndefined();
    expect(routedDevice('')).toBeUndefined();
  });
});

describe('planAddressChanges', () => {
  const m = (...e: [string, string][]) => new Map(e);
  it('removes from interfaces first, then adds (lo first), then removes from lo', () => {
    expect(
      planAddressChanges(
        m(['192.0.2.1', 'eth0'], ['192.0.2.2', 'lo'], ['192.0.2.3', 'lo'], ['192.0.2.5', 'eth0']),
        m(['192.0.2.1', 'lo'], ['192.0.2.2', 'eth0'], ['192.0.2.4', 'lo'], ['192.0.2.5', 'eth0']),
      ),
    ).toEqual([
      { op: 'del', ip: '192.0.2.1', dev: 'eth0' }, // handed over: the kernel stops answering first
      { op: 'add', ip: '192.0.2.1', dev: 'lo' }, // still delivered while it drains
      { op: 'add', ip: '192.0.2.4', dev: 'lo' },
      { op: 'add', ip: '192.0.2.2', dev: 'eth0' }, // won: on the interface before it leaves lo
      { op: 'del', ip: '192.0.2.2', dev: 'lo' },
      { op: 'del', ip: '192.0.2.3', dev: 'lo' },
    ]);
  });
  it('is empty when present is wanted', () => {
    expect(planAddressChanges(m(['2001:db8::1', 'eth1']), m(['2001:db8::1', 'eth1']))).toEqual([]);
  });
});

describe('LoopbackDelivery in interface mode (the kernel answers ARP/NDP)', () => {
  /** Addresses as `dev addr/len`; `ip route get` answers `routes[ip]`. */
  function fakeHost(routes: Record<string, string>, initial: string[] = []) {
    const addrs = new Set(initial);
    const calls: string[] = [];
    const one = (args: string[]) => {
      const [op, addr, , dev] = [args[1], args[2] as string, args[3], args[4] as string];
      const key = `${dev} ${addr}`;
      if (op === 'add') {
        if (addrs.has(key)) throw new Error('RTNETLINK answers: File exists');
        addrs.add(key);
      } else if (!addrs.delete(key)) throw new Error('RTNETLINK answers: Cannot assign requested address');
    };
    const delivery = new LoopbackDelivery({
      log,
      mode: 'interface',
      writeSysctl: () => {},
      isServiceIp: (ip) => ip.startsWith('198.51.100.') || ip.startsWith('2001:db8:100::'),
      ip: async (args, input) => {
        calls.push(args.join(' ') + (input ? `\n${input}` : ''));
        if (args[0] === '-force') {
          for (const line of (input ?? '').trim().split('\n')) one(line.split(' '));
          return '';
        }
        if (args.includes('route')) {
          const dev = routes[args.at(-1) as string];
          return dev
            ? `default via 192.0.2.254 dev eth9 \n${args.at(-1)}/28 dev ${dev} proto kernel scope link \n`
            : '';
        }
        if (args.includes('show'))
          return [...addrs]
            .filter((a) => !args.includes('dev') || a.startsWith(`${args[args.indexOf('dev') + 1]} `))
            .map((a, i) => {
              const [dev, addr] = a.split(' ') as [string, string];
              return `${i + 1}: ${dev}    inet${addr.includes(':') ? '6' : ''} ${addr} scope global\n`;
            })
            .join('');
        one(args.slice(1));
        return '';
      },
    });
    return { delivery, addrs, calls };
  }

  it('puts a layer-2 owned IP on the interface routing it (IPv6 nodad, no label), others on lo', async () => {
    const h = fakeHost({ '198.51.100.10': 'eth0', '2001:db8:100::10': 'eth1' });
    await h.delivery.start();
    await h.delivery.sync(
      ['198.51.100.10', '2001:db8:100::10', '198.51.100.11'],
      new Map([
        ['198.51.100.10', []],
        ['2001:db8:100::10', []],
      ]),
    );
    expect([...h.addrs].sort()).toEqual(['eth0 198.51.100.10/32', 'eth1 2001:db8:100::10/128', `lo 198.51.100.11/32`]);
    expect(h.calls.find((c) => c.includes('2001:db8:100::10/128'))).toContain('dev eth1 nodad');
    expect(h.delivery.devices()).toEqual(
      new Map([
        ['198.51.100.10', 'eth0'],
        ['2001:db8:100::10', 'eth1'],
        ['198.51.100.11', 'lo'],
      ]),
    );
  });

  it('on handover moves the IP from the interface to lo (removed from the interface first), and close leaves nothing', async () => {
    const h = fakeHost({ '198.51.100.10': 'eth0' });
    await h.delivery.start();
    await h.delivery.sync(['198.51.100.10'], new Map([['198.51.100.10', []]]));
    h.calls.length = 0;
    await h.delivery.sync(['198.51.100.10'], new Map());
    expect([...h.addrs]).toEqual(['lo 198.51.100.10/32']);
    const script = h.calls.find((c) => c.startsWith('-force')) ?? '';
    expect(script.indexOf('del 198.51.100.10/32 dev eth0')).toBeGreaterThan(0);
    expect(script.indexOf('del 198.51.100.10/32 dev eth0')).toBeLessThan(script.indexOf('add 198.51.100.10/32 dev lo'));
    // Won back: the interface first, then off lo.
    await h.delivery.sync(['198.51.100.10'], new Map([['198.51.100.10', []]]));
    expect([...h.addrs]).toEqual(['eth0 198.51.100.10/32']);
    await h.delivery.close();
    expect(h.addrs.size).toBe(0);
  });

  it('honours the L2Advertisement interfaces, falls back to lo when nothing routes the IP, and adopts leftovers', async () => {
    const h = fakeHost({ '198.51.100.10': 'eth0' }, ['eth2 198.51.100.12/32', 'eth0 198.51.100.99/24']);
    await h.delivery.start();
    expect(h.delivery.devices()).toEqual(new Map([['198.51.100.12', 'eth2']]));
    await h.delivery.sync(
      ['198.51.100.10', '198.51.100.11'],
      new Map<string, string[]>([
        ['198.51.100.10', ['eth3']],
        ['198.51.100.11', []],
      ]),
    );
    expect([...h.addrs].sort()).toEqual(['eth0 198.51.100.99/24', 'eth3 198.51.100.10/32', 'lo 198.51.100.11/32']);
  });

  it('local mode ignores the layer-2 map: everything on lo', async () => {
    const f = fakeIp();
    await f.delivery.start();
    await f.delivery.sync(['192.0.2.240'], new Map([['192.0.2.240', []]]));
    expect([...f.onLo]).toEqual(['192.0.2.240/32']);
  });
});
