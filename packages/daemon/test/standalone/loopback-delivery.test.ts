import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { LOOPBACK_LABEL, LoopbackDelivery } from '../../src/standalone/loopback-delivery.js';

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
