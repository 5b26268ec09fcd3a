import { describe, expect, it } from 'vitest';
import { AllocationError, Allocator, type ServiceInfo } from '../src/index.js';

function fails(f: () => unknown): AllocationError {
  try {
    f();
  } catch (e) {
    if (e instanceof AllocationError) return e;
    throw e;
  }
  throw new Error('expected an AllocationError');
}

const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: 'TCP', port }));

describe('assign: pool membership and shape', () => {
  const a = new Allocator();
  a.setPools([
    { name: 'p', addresses: ['192.0.2.0/24', '2001:db8::/120'] },
    { name: 'q', addresses: ['198.51.100.0/24'], avoidBuggyIPs: true },
  ]);

  it.each<[string, string[], string, string]>([
    ['outside every pool', ['203.0.113.5'], 'NOT_IN_CONFIG', '["203.0.113.5"] is not allowed in config'],
    [
      'buggy .0 of an avoidBuggyIPs pool',
      ['198.51.100.0'],
      'NOT_IN_CONFIG',
      '["198.51.100.0"] is not allowed in config',
    ],
    [
      'buggy .255 of an avoidBuggyIPs pool',
      ['198.51.100.255'],
      'NOT_IN_CONFIG',
      '["198.51.100.255"] is not allowed in config',
    ],
    [
      'two IPs in different pools',
      ['192.0.2.1', '198.51.100.1'],
      'NOT_IN_CONFIG',
      '["192.0.2.1" "198.51.100.1"] is not allowed in config',
    ],
    ['no IP at all', [], 'NOT_IN_CONFIG', '[] is not allowed in config'],
    ['two IPv4', ['192.0.2.1', '192.0.2.2'], 'SAME_FAMILY', '"192.0.2.1" "192.0.2.2" has the same family'],
    ['the same IP twice', ['192.0.2.1', '192.0.2.1'], 'SAME_FAMILY', '"192.0.2.1" "192.0.2.1" has the same family'],
    [
      'three IPs',
      ['192.0.2.1', '192.0.2.2', '2001:db8::1'],
      'TOO_MANY_ADDRESSES',
      'more than two addresses ["192.0.2.1" "192.0.2.2" "2001:db8::1"]',
    ],
    ['not an IP', ['192.0.2.300'], 'INVALID_IP', 'invalid IP "192.0.2.300"'],
  ])('%s', (_, ips, code, message) => {
    const e = fails(() => a.assign('ns/x', ips));
    expect(e.name).toBe('AllocationError');
    expect(e.code).toBe(code);
    expect(e.message).toBe(message);
    expect(a.ipsOf('ns/x')).toEqual([]);
  });

  it('assigns one IP, and a dual-stack pair ordered [v4, v6], canonicalized', () => {
    expect(a.assign('ns/one', '192.0.2.10')).toEqual(['192.0.2.10']);
    expect(a.assign('ns/two', ['2001:DB8:0::0a', '192.0.2.11'])).toEqual(['192.0.2.11', '2001:db8::a']);
    expect(a.poolOf('ns/two')).toBe('p');
    expect(a.usersOf('2001:db8::a')).toEqual(['ns/two']);
    expect(a.poolForIp('198.51.100.0')).toBeUndefined();
    expect(a.poolForIp('198.51.100.1')).toBe('q');
  });

  it('is idempotent, and moving a service frees its old IP', () => {
    expect(a.assign('ns/one', '192.0.2.10')).toEqual(['192.0.2.10']);
    expect(a.statsOf('p')!.inUse.ipv4).toBe(2);
    expect(a.assign('ns/one', '198.51.100.7')).toEqual(['198.51.100.7']);
    expect(a.usersOf('192.0.2.10')).toEqual([]);
    expect(a.statsOf('p')!.inUse.ipv4).toBe(1);
    expect(a.statsOf('q')!.inUse.ipv4).toBe(1);
  });

  it('refuses an IP held by a service that does not share', () => {
    const e = fails(() => a.assign('ns/other', '192.0.2.11'));
    expect(e.code).toBe('SHARING_CONFLICT');
    expect(e.message).toBe('can\'t change sharing key for "ns/other", address also in use by ns/two');
    expect(e.detail).toBe('existing service does not allow sharing');
  });
});

describe('assign: sharing (allow-shared-ip, backend key, ports)', () => {
  const a = new Allocator();
  a.setPools([{ name: 'p', addresses: ['192.0.2.0/24'] }]);
  const svc = (sharingKey: string, ports: ServiceInfo['ports'], extra: Partial<ServiceInfo> = {}): ServiceInfo => ({
    sharingKey,
    ports,
    ...extra,
  });

  it('lets services with the same key and disjoint ports share', () => {
    expect(a.assign('s/a', '192.0.2.1', svc('k', tcp(80)))).toEqual(['192.0.2.1']);
    expect(a.assign('s/b', '192.0.2.1', svc('k', tcp(443)))).toEqual(['192.0.2.1']);
    expect(a.assign('s/dns', '192.0.2.1', svc('k', [{ protocol: 'UDP', port: 80 }]))).toEqual(['192.0.2.1']);
    expect(a.usersOf('192.0.2.1')).toEqual(['s/a', 's/b', 's/dns']);
    expect(a.statsOf('p')!.inUse.total).toBe(1);
    expect(a.statsOf('p')!.services).toBe(3);
  });

  it.each<[string, ServiceInfo, string, string, string | undefined]>([
    ['a port in use', svc('k', tcp(80)), 'PORT_CONFLICT', 'port TCP/80 is already in use on "192.0.2.1"', undefined],
    [
      'another key',
      svc('other', tcp(8080)),
      'SHARING_CONFLICT',
      'can\'t change sharing key for "s/c", address also in use by s/a,s/b,s/dns',
      'sharing key "other" does not match existing sharing key "k"',
    ],
    [
      'no key',
      svc('', tcp(8080)),
      'SHARING_CONFLICT',
      'can\'t change sharing key for "s/c", address also in use by s/a,s/b,s/dns',
      'new service does not allow sharing',
    ],
    [
      'same key, externalTrafficPolicy Local',
      svc('k', tcp(8080), { externalTrafficPolicy: 'Local', selector: { app: 'x' } }),
      'SHARING_CONFLICT',
      'can\'t change sharing key for "s/c", address also in use by s/a,s/b,s/dns',
      'backend key "app=x" does not match existing sharing key ""',
    ],
  ])('refuses %s', (_, service, code, message, detail) => {
    const e = fails(() => a.assign('s/c', '192.0.2.1', service));
    expect(e.code).toBe(code);
    expect(e.message).toBe(message);
    expect(e.detail).toBe(detail);
  });

  it('lets Local services share only with identical selectors', () => {
    const local = (sel: Record<string, string>, port: number) =>
      svc('L', tcp(port), { externalTrafficPolicy: 'Local', selector: sel });
    expect(a.assign('l/a', '192.0.2.2', local({ b: '2', a: '1' }, 80))).toEqual(['192.0.2.2']);
    expect(a.assign('l/b', '192.0.2.2', local({ a: '1', b: '2' }, 81))).toEqual(['192.0.2.2']);
    const e = fails(() => a.assign('l/c', '192.0.2.2', local({ a: '1' }, 82)));
    expect(e.detail).toBe('backend key "a=1" does not match existing sharing key "a=1,b=2"');
    // an explicit backend key is taken as is
    expect(a.assign('l/d', '192.0.2.2', svc('L', tcp(83), { backendKey: 'a=1,b=2' }))).toEqual(['192.0.2.2']);
  });

  it('lets the sole user change its key in place, but not once the IP is shared', () => {
    expect(a.assign('solo/a', '192.0.2.3', svc('one', tcp(80)))).toEqual(['192.0.2.3']);
    expect(a.assign('solo/a', '192.0.2.3', svc('two', tcp(80)))).toEqual(['192.0.2.3']);
    expect(a.assign('solo/a', '192.0.2.3', svc('', tcp(80)))).toEqual(['192.0.2.3']);
    expect(a.assign('solo/a', '192.0.2.3', svc('two', tcp(80)))).toEqual(['192.0.2.3']);
    expect(a.assign('solo/b', '192.0.2.3', svc('two', tcp(81)))).toEqual(['192.0.2.3']);
    const e = fails(() => a.assign('solo/a', '192.0.2.3', svc('three', tcp(80))));
    expect(e.message).toBe('can\'t change sharing key for "solo/a", address also in use by solo/b');
  });

  it('lets a sharer change its own ports, but not onto a port of another sharer', () => {
    expect(a.assign('s/a', '192.0.2.1', svc('k', tcp(80, 8080)))).toEqual(['192.0.2.1']);
    const e = fails(() => a.assign('s/a', '192.0.2.1', svc('k', tcp(443))));
    expect(e.message).toBe('port TCP/443 is already in use on "192.0.2.1"');
  });

  it('keeps a port-less sharer’s IP when the other sharer leaves (MetalLB frees it with the last port)', () => {
    const b = new Allocator();
    b.setPools([{ name: 'p', addresses: ['192.0.2.0/30'] }]);
    b.assign('x/ports', '192.0.2.0', svc('k', tcp(80)));
    b.assign('x/noports', '192.0.2.0', svc('k', []));
    b.unassign('x/ports');
    expect(b.usersOf('192.0.2.0')).toEqual(['x/noports']);
    expect(b.allocate('x/new')).toEqual(['192.0.2.1']);
    expect(fails(() => b.assign('x/steal', '192.0.2.0')).code).toBe('SHARING_CONFLICT');
  });

  it('checks both IPs of a dual-stack sharing request', () => {
    const b = new Allocator();
    b.setPools([{ name: 'p', addresses: ['192.0.2.0/30', '2001:db8::/126'] }]);
    b.assign('d/a', ['192.0.2.1', '2001:db8::1'], svc('k', tcp(80)));
    b.assign('d/b', '2001:db8::1', svc('k', tcp(443)));
    const e = fails(() => b.assign('d/c', ['192.0.2.1', '2001:db8::1'], svc('k', tcp(443))));
    expect(e.message).toBe('port TCP/443 is already in use on "2001:db8::1"');
  });
});

describe('assign: serviceAllocation compatibility', () => {
  const a = new Allocator();
  a.setPools(
    [
      { name: 'ns-pool', addresses: ['192.0.2.0/28'], serviceAllocation: { namespaces: ['team-a'] } },
      {
        name: 'sel-pool',
        addresses: ['192.0.2.16/28'],
        serviceAllocation: {
          serviceSelectors: [
            {
              matchLabels: { tier: 'web' },
              matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'stage'] }],
            },
            { matchExpressions: [{ key: 'legacy', operator: 'Exists' }] },
          ],
        },
      },
      {
        name: 'both',
        addresses: ['192.0.2.32/28'],
        serviceAllocation: {
          namespaces: ['team-a'],
          serviceSelectors: [
            {
              matchExpressions: [
                { key: 'tier', operator: 'NotIn', values: ['db'] },
                { key: 'secret', operator: 'DoesNotExist' },
              ],
            },
          ],
        },
      },
      {
        name: 'nobody',
        addresses: ['192.0.2.48/28'],
        serviceAllocation: { namespaceSelectors: [{ matchLabels: { team: 'ghost' } }] },
      },
    ],
    { namespaces: [{ name: 'team-a', labels: { team: 'a' } }] },
  );

  it.each<[string, string, ServiceInfo, boolean]>([
    ['namespace listed', '192.0.2.1', { namespace: 'team-a' }, true],
    ['namespace not listed', '192.0.2.2', { namespace: 'team-b' }, false],
    ['matchLabels + In', '192.0.2.17', { labels: { tier: 'web', env: 'prod' } }, true],
    ['In fails', '192.0.2.18', { labels: { tier: 'web', env: 'dev' } }, false],
    ['matchLabels fails', '192.0.2.19', { labels: { tier: 'api', env: 'prod' } }, false],
    ['second selector (Exists), OR', '192.0.2.20', { labels: { legacy: '' } }, true],
    ['no labels', '192.0.2.21', {}, false],
    ['namespace and selector both hold', '192.0.2.33', { namespace: 'team-a', labels: { tier: 'web' } }, true],
    ['NotIn fails', '192.0.2.34', { namespace: 'team-a', labels: { tier: 'db' } }, false],
    ['DoesNotExist fails', '192.0.2.35', { namespace: 'team-a', labels: { secret: 'x' } }, false],
    ['selector holds, namespace does not', '192.0.2.36', { namespace: 'team-b', labels: {} }, false],
    // MetalLB treats a namespace restriction that resolved to no namespace as no restriction; we do not.
    ['namespace selector matching no namespace', '192.0.2.49', { namespace: 'team-a' }, false],
  ])('%s', (_, ip, service, ok) => {
    const key = `t/${ip}`;
    if (ok) expect(a.assign(key, ip, service)).toEqual([ip]);
    else {
      const e = fails(() => a.assign(key, ip, service));
      expect(e.code).toBe('POOL_INCOMPATIBLE');
      expect(e.message).toBe(`pool ${a.poolForIp(ip)} not compatible for ip assignment`);
    }
  });
});
