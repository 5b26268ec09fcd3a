import { describe, expect, it } from 'vitest';
import { ConfigStore, DEFAULT_CONFIG_YAML, parseConfig, parseConfigObjects, parseDurationMs } from '../src/index.js';

const pool = (name: string, spec: string) => `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: ${name} }
spec: ${spec}
---
`;

function issuesOf(text: string) {
  const r = parseConfig(text);
  if (r.ok) throw new Error('expected issues');
  return r.issues;
}

describe('parseConfig', () => {
  it('accepts the embedded default configuration', () => {
    const r = parseConfig(DEFAULT_CONFIG_YAML);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.pools[0]).toMatchObject({ name: 'default', autoAssign: true, avoidBuggyIPs: false });
    expect(r.config.l2Advertisements[0]?.ipAddressPools).toEqual(['default']);
    expect(r.config.services.map((s) => s.key)).toEqual(['demo/web', 'demo/dns']);
    expect(r.config.services[1]).toMatchObject({
      ipFamilyPolicy: 'PreferDualStack',
      clusterIPs: ['198.51.100.53', '2001:db8:96::53'],
    });
  });

  it("applies MetalLB's defaults", () => {
    const r = parseConfig(`${pool('p', '{ addresses: [192.0.2.0/28] }')}
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: a }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: r }
spec: { myASN: 64512, peerASN: 64513, peerAddress: 192.0.2.254 }
`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.bgpAdvertisements[0]).toMatchObject({
      aggregationLength: 32,
      aggregationLengthV6: 128,
      localPref: 0,
    });
    expect(r.config.bgpPeers[0]).toMatchObject({ peerPort: 179, holdTime: 90, keepaliveTime: 30, ebgpMultiHop: false });
  });

  it('accepts a kind: List wrapper', () => {
    const r = parseConfig(`apiVersion: v1
kind: List
items:
  - apiVersion: metallb.io/v1beta1
    kind: IPAddressPool
    metadata: { name: p }
    spec: { addresses: ['192.0.2.10 - 192.0.2.20'] }
`);
    expect(r.ok && r.config.pools[0]?.addresses).toEqual(['192.0.2.10 - 192.0.2.20']);
  });

  it.each([
    ['missing addresses', pool('p', '{}'), 'IPAddressPool/p', 'spec.addresses', /at least one/],
    [
      'bad CIDR',
      pool('p', '{ addresses: [192.0.2.0/33] }'),
      'IPAddressPool/p',
      'spec.addresses[0]',
      /invalid CIDR "192.0.2.0\/33" in pool "p"/,
    ],
    [
      'mixed range',
      pool('p', "{ addresses: ['192.0.2.1-2001:db8::1'] }"),
      'IPAddressPool/p',
      'spec.addresses[0]',
      /families/,
    ],
    [
      'autoAssign type',
      pool('p', '{ addresses: [192.0.2.0/28], autoAssign: "yes" }'),
      'IPAddressPool/p',
      'spec.autoAssign',
      /true or false/,
    ],
    [
      'duplicate namespaces',
      pool('p', '{ addresses: [192.0.2.0/28], serviceAllocation: { namespaces: [a, a] } }'),
      'IPAddressPool/p',
      'spec.serviceAllocation.namespaces[1]',
      /duplicate/,
    ],
  ])('rejects %s with the resource, field and reason', (_name, text, resource, field, reason) => {
    const issues = issuesOf(text);
    expect(issues).toContainEqual(expect.objectContaining({ resource, field, reason: expect.stringMatching(reason) }));
  });

  it.each([
    [
      'hold time under 3s',
      '{ myASN: 1, peerASN: 2, peerAddress: 192.0.2.1, holdTime: 2s }',
      'spec.holdTime',
      /0 or >=3s/,
    ],
    [
      'keepalive above hold',
      '{ myASN: 1, peerASN: 2, peerAddress: 192.0.2.1, holdTime: 9s, keepaliveTime: 10s }',
      'spec.keepaliveTime',
      /lower than holdTime/,
    ],
    [
      'port above 16384',
      '{ myASN: 1, peerASN: 2, peerAddress: 192.0.2.1, peerPort: 20000 }',
      'spec.peerPort',
      /between 1 and 16384/,
    ],
    ['myASN 0', '{ myASN: 0, peerASN: 2, peerAddress: 192.0.2.1 }', 'spec.myASN', /between 1/],
    [
      'multihop iBGP',
      '{ myASN: 5, peerASN: 5, peerAddress: 192.0.2.1, ebgpMultiHop: true }',
      'spec.ebgpMultiHop',
      /ibgp/,
    ],
    ['bad address', '{ myASN: 1, peerASN: 2, peerAddress: 192.0.2.300 }', 'spec.peerAddress', /invalid IP/],
    [
      'dynamicASN other than internal/external',
      '{ myASN: 1, dynamicASN: both, peerAddress: 192.0.2.1 }',
      'spec.dynamicASN',
      /must be internal or external/,
    ],
    [
      'peerASN and dynamicASN',
      '{ myASN: 1, peerASN: 2, dynamicASN: external, peerAddress: 192.0.2.1 }',
      'spec.dynamicASN',
      /both peerASN 2 and dynamicASN/,
    ],
    ['neither peerASN nor dynamicASN', '{ myASN: 1, peerAddress: 192.0.2.1 }', 'spec.peerASN', /is required/],
    [
      'a bfdProfile that does not exist',
      '{ myASN: 1, peerASN: 2, peerAddress: 192.0.2.1, bfdProfile: fast }',
      'spec.bfdProfile',
      /BFDProfile "fast", which does not exist/,
    ],
    [
      'vrf not a device name',
      '{ myASN: 1, peerASN: 2, peerAddress: 192.0.2.1, vrf: "red blue" }',
      'spec.vrf',
      /device name/,
    ],
    [
      'both peerAddress and interface',
      '{ myASN: 1, peerASN: 2, peerAddress: 192.0.2.1, interface: eth1 }',
      'spec.interface',
      /both Address and Interface/,
    ],
    ['neither peerAddress nor interface', '{ myASN: 1, peerASN: 2 }', 'spec.peerAddress', /is required/],
    ['interface not a device name', '{ myASN: 1, peerASN: 2, interface: "eth 1" }', 'spec.interface', /device name/],
    [
      'a fractional connectTime',
      '{ myASN: 1, peerASN: 2, peerAddress: 192.0.2.1, connectTime: 1500ms }',
      'spec.connectTime',
      /whole seconds/,
    ],
    [
      'connectTime over 65535 s',
      '{ myASN: 1, peerASN: 2, peerAddress: 192.0.2.1, connectTime: 20h }',
      'spec.connectTime',
      /1s to 65535s/,
    ],
  ])('rejects a BGPPeer with %s', (_name, spec, field, reason) => {
    const issues = issuesOf(`apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: { name: r }\nspec: ${spec}\n`);
    expect(issues).toContainEqual(
      expect.objectContaining({ resource: 'BGPPeer/r', field, reason: expect.stringMatching(reason) }),
    );
  });

  it('reads interface (BGP unnumbered): no address yet, both families, sourceAddress and disableMP warned and unused', () => {
    const r = parseConfig(
      'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: { name: r }\n' +
        'spec: { myASN: 1, dynamicASN: external, interface: eth1, sourceAddress: 192.0.2.7, disableMP: true }\n',
    );
    expect(r.ok).toBe(true);
    const peer = r.ok ? r.config.bgpPeers[0] : undefined;
    expect(peer).toMatchObject({ interface: 'eth1', peerAddress: '', dynamicASN: 'external' });
    expect(peer?.sourceAddress).toBeUndefined();
    expect(peer?.disableMP).toBeUndefined();
    expect(r.ok && r.warnings.map((w) => w.field).sort()).toEqual(['spec.disableMP', 'spec.sourceAddress']);
  });

  it('reads connectTime as the ConnectRetry seconds, and accepts the FRR-only fields at their off values', () => {
    const r = parseConfig(
      'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: { name: r }\n' +
        'spec: { myASN: 1, peerASN: 2, peerAddress: 192.0.2.1, connectTime: 10s, disableMP: false, vrf: "", dualStackAddressFamily: true }\n',
    );
    expect(r.ok && r.config.bgpPeers[0]).toMatchObject({ connectTime: 10 });
    const plain = parseConfig(
      'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: { name: r }\nspec: { myASN: 1, peerASN: 2, peerAddress: 192.0.2.1 }\n',
    );
    expect(plain.ok && plain.config.bgpPeers[0]!.connectTime).toBeUndefined();
  });

  it('resolves advertisement node selectors against the nodes given, as MetalLB does for localPref conflicts', () => {
    const meta = (kind: string, name: string, spec: object) => ({
      apiVersion: 'metallb.io/v1beta1',
      kind,
      metadata: { name },
      spec,
    });
    const objects = [
      meta('IPAddressPool', 'p', { addresses: ['198.51.100.0/24'] }),
      meta('BGPAdvertisement', 'a', { localPref: 100, nodeSelectors: [{ matchLabels: { zone: 'a' } }] }),
      meta('BGPAdvertisement', 'b', { localPref: 200, nodeSelectors: [{ matchLabels: { rack: '1' } }] }),
    ];
    const both = [{ name: 'n1', labels: { zone: 'a', rack: '1' } }];
    const apart: { name: string; labels: Record<string, string> }[] = [
      { name: 'n1', labels: { zone: 'a' } },
      { name: 'n2', labels: { rack: '1' } },
    ];
    expect(parseConfigObjects(objects, [], { nodes: both })).toMatchObject({
      ok: false,
      issues: [{ resource: 'BGPAdvertisement/b', field: 'spec.localPref' }],
    });
    expect(parseConfigObjects(objects, [], { nodes: apart }).ok).toBe(true);
    // no node known: different selectors are taken as disjoint
    expect(parseConfigObjects(objects).ok).toBe(true);
  });

  it('truncates BGP timers to whole seconds, as MetalLB', () => {
    const r = parseConfig(
      'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: { name: r }\nspec: { myASN: 1, peerASN: 2, peerAddress: 192.0.2.1, holdTime: 3.7s }\n',
    );
    expect(r.ok && r.config.bgpPeers[0]).toMatchObject({ holdTime: 3, keepaliveTime: 1 });
  });

  it('derives hold time from keepalive and keepalive from hold time', () => {
    const peers = (spec: string) => {
      const r = parseConfig(`apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: { name: r }\nspec: ${spec}\n`);
      return r.ok ? r.config.bgpPeers[0] : undefined;
    };
    expect(peers('{ myASN: 1, peerASN: 2, peerAddress: 192.0.2.1, keepaliveTime: 5s }')).toMatchObject({
      holdTime: 15,
      keepaliveTime: 5,
    });
    expect(peers('{ myASN: 1, peerASN: 2, peerAddress: 192.0.2.1, holdTime: 1m30s }')).toMatchObject({
      holdTime: 90,
      keepaliveTime: 30,
    });
  });

  it("reports overlapping pools with MetalLB's text", () => {
    const issues = issuesOf(
      pool('p', '{ addresses: [192.0.2.0/28] }') + pool('q', "{ addresses: ['192.0.2.8 - 192.0.2.9'] }"),
    );
    expect(issues).toEqual([
      {
        resource: 'IPAddressPool/q',
        field: 'spec.addresses',
        reason: 'CIDR "192.0.2.8/31" in pool "q" overlaps with already defined CIDR "192.0.2.0/28"',
        line: 9,
        document: 2,
      },
    ]);
  });

  it('checks references to pools, peers and community aliases', () => {
    const issues = issuesOf(`${pool('p', '{ addresses: [192.0.2.0/28] }')}
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: a }
spec: { ipAddressPools: [nope], peers: [ghost], communities: [no-such-alias, '65536:1'] }
`);
    expect(issues.map((i) => `${i.field}: ${i.reason}`)).toEqual([
      'spec.communities[1]: invalid community "65536:1": each half must be at most 65535',
      'spec.communities[0]: unknown community alias "no-such-alias"',
    ]);
  });

  it('accepts an advertisement naming a pool or peer that does not exist, with a warning (MetalLB skips the name)', () => {
    const r = parseConfig(`${pool('p', '{ addresses: [192.0.2.0/28] }')}
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: a }
spec: { ipAddressPools: [nope], peers: [ghost] }
`);
    expect(r.ok).toBe(true);
    expect(r.warnings.map((i) => `${i.resource} ${i.field}: ${i.reason}`)).toEqual([
      'BGPAdvertisement/a spec.ipAddressPools[0]: unknown pool "nope": skipped, as MetalLB does',
      'BGPAdvertisement/a spec.peers[0]: unknown BGPPeer "ghost": skipped, as MetalLB does',
    ]);
    // the advertisement keeps its (unknown) names, so it applies to no pool rather than to every pool
    expect(r.ok && r.config.bgpAdvertisements[0]?.ipAddressPools).toEqual(['nope']);
  });

  it('accepts localASN with a warning: ignored, as MetalLB native mode ignores it', () => {
    const r = parseConfig(
      'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: { name: r }\nspec: { myASN: 1, peerASN: 2, peerAddress: 192.0.2.1, localASN: 3 }\n',
    );
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([
      expect.objectContaining({
        resource: 'BGPPeer/r',
        field: 'spec.localASN',
        reason: expect.stringMatching(/^ignored/),
      }),
    ]);
  });

  it('rejects duplicate names, unknown kinds, bad selectors and broken YAML', () => {
    expect(
      issuesOf(pool('p', '{ addresses: [192.0.2.0/28] }') + pool('p', '{ addresses: [192.0.2.16/28] }')),
    ).toContainEqual(
      expect.objectContaining({
        resource: 'IPAddressPool/p',
        field: 'metadata.name',
        reason: 'duplicate IPAddressPool name',
      }),
    );
    expect(issuesOf('apiVersion: metallb.io/v1beta1\nkind: AddressPool\nmetadata: { name: x }\n')[0]?.field).toBe(
      'kind',
    );
    expect(
      issuesOf(
        pool(
          'p',
          '{ addresses: [192.0.2.0/28], serviceAllocation: { serviceSelectors: [{ matchExpressions: [{ key: a, operator: In }] }] } }',
        ),
      )[0]?.reason,
    ).toMatch(/values must be non-empty/);
    expect(issuesOf('kind: [unterminated')[0]?.reason).toMatch(/invalid YAML/);
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['90s', 90_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['500ms', 500],
    ['0', 0],
    [3, 3000],
  ] as const)('%s → %d ms', (text, ms) => expect(parseDurationMs(text)).toBe(ms));
  it.each(['', 's', '10x', '1m 2s', '-1s'])('rejects %j', (text) => expect(parseDurationMs(text)).toBeUndefined());
});

describe('ConfigStore', () => {
  it('keeps the last good configuration in force when a bad one arrives, and reports stale', () => {
    const store = new ConfigStore();
    const rejected: unknown[] = [];
    store.on('rejected', (issues) => rejected.push(issues));
    expect(store.current).toBeUndefined();
    store.applyText(DEFAULT_CONFIG_YAML);
    const good = store.current;
    expect(good?.pools).toHaveLength(1);
    store.applyText(pool('broken', '{ addresses: [not-an-ip] }'));
    expect(store.current).toBe(good);
    expect(store.stale).toBe(true);
    expect(rejected).toHaveLength(1);
    store.applyText(DEFAULT_CONFIG_YAML);
    expect(store.stale).toBe(false);
  });

  it('reports warnings of an applied configuration before applying it', () => {
    const store = new ConfigStore();
    const events: string[] = [];
    store.on('warned', (warnings) => events.push(...warnings.map((w) => `warned ${w.resource} ${w.field}`)));
    store.on('applied', () => events.push('applied'));
    store.applyText(`${pool('p', '{ addresses: [192.0.2.0/28] }')}apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: l }
spec: { ipAddressPools: [q] }
`);
    expect(events).toEqual(['warned L2Advertisement/l spec.ipAddressPools[0]', 'applied']);
    store.applyText(DEFAULT_CONFIG_YAML);
    expect(events).toHaveLength(3);
  });
});
