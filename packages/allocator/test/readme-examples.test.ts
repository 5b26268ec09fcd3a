// The README's examples, with their stated results asserted, so the documentation cannot drift from the code.
import { describe, expect, it } from 'vitest';
import {
  AllocationError,
  Allocator,
  backendKeyFor,
  compileLabelSelector,
  formatPrefix,
  PoolValidationError,
  parseAddressEntry,
  parseIp,
  parsePools,
} from '../src/index.js';

describe('README examples', () => {
  it('quick start', () => {
    const allocator = new Allocator();
    allocator.setPools([
      { name: 'default', addresses: ['192.0.2.0/28', '2001:db8::/120'] },
      { name: 'reserved', addresses: ['198.51.100.10 - 198.51.100.20'], autoAssign: false },
    ]);
    expect(
      allocator.allocate('web/frontend', { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' }),
    ).toEqual(['192.0.2.0', '2001:db8::']);
    expect(allocator.allocateFromPool('web/api', 'reserved')).toEqual(['198.51.100.10']);
    allocator.assign('web/dns', '192.0.2.5', { sharingKey: 'dns', ports: [{ protocol: 'UDP', port: 53 }] });
    allocator.assign('web/dns-tcp', '192.0.2.5', { sharingKey: 'dns', ports: [{ protocol: 'TCP', port: 53 }] });
    expect(allocator.usersOf('192.0.2.5')).toEqual(['web/dns', 'web/dns-tcp']);
    expect(allocator.unassign('web/frontend')).toBe(true);
    expect(allocator.stats()[0]).toMatchObject({ pool: 'default', capacity: { total: 272n, ipv4: 16n, ipv6: 256n } });
  });

  it('Allocator example', () => {
    const a = new Allocator({ reuse: 'least-recently-released' });
    a.setPools([
      { name: 'team-a', addresses: ['192.0.2.0/29'], serviceAllocation: { priority: 1, namespaces: ['team-a'] } },
      { name: 'shared', addresses: ['198.51.100.0/30', '2001:db8::/126'] },
    ]);
    expect(a.allocate('team-a/web', { namespace: 'team-a' })).toEqual(['192.0.2.0']);
    expect(a.allocate('team-b/web', { namespace: 'team-b' })).toEqual(['198.51.100.0']);
    let caught: unknown;
    try {
      a.assign('team-b/x', '192.0.2.3', { namespace: 'team-b' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AllocationError);
    expect((caught as AllocationError).code).toBe('POOL_INCOMPATIBLE');
    expect((caught as AllocationError).message).toBe('pool team-a not compatible for ip assignment');
    const r = a.setPools([{ name: 'shared', addresses: ['198.51.100.0/30'] }]);
    expect(r.evicted).toEqual([{ serviceKey: 'team-a/web', ips: ['192.0.2.0'], pool: 'team-a' }]);
    expect(a.restore([{ serviceKey: 'team-b/db', ips: ['198.51.100.2'] }])).toEqual([
      { serviceKey: 'team-b/db', status: 'kept', ips: ['198.51.100.2'] },
    ]);
  });

  it('PoolValidationError example', () => {
    let caught: unknown;
    try {
      parsePools([
        { name: 'lab-pool', addresses: ['172.19.255.200-172.19.255.250'] },
        { name: 'lab-pool-reserved', addresses: ['172.19.255.230-172.19.255.239'] },
      ]);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PoolValidationError);
    expect((caught as PoolValidationError).message).toBe(
      'CIDR "172.19.255.230/31" in pool "lab-pool-reserved" overlaps with already defined CIDR "172.19.255.224/28"',
    );
  });

  it('address and selector examples', () => {
    const r = parseAddressEntry('1.2.3.10 - 1.2.3.20');
    expect(r.ok && r.prefixes.map(formatPrefix)).toEqual(['1.2.3.10/31', '1.2.3.12/30', '1.2.3.16/30', '1.2.3.20/32']);
    expect(parseIp('2001:DB8::1')).toEqual({ family: 6, value: 42540766411282592856903984951653826561n });
    expect(parseIp('01.2.3.4')).toBeUndefined();
    const s = compileLabelSelector({
      matchLabels: { tier: 'web' },
      matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }],
    });
    expect(s.ok && s.matches({ tier: 'web', env: 'prod' })).toBe(true);
    expect(backendKeyFor('Local', { b: '2', a: '1' })).toBe('a=1,b=2');
  });
});
