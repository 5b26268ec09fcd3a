import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { birdConfig } from '../src/peers/bird.js';
import { exabgpConfig, exabgpEnvironment } from '../src/peers/exabgp.js';
import { frrBfddConfig, frrBgpdConfig } from '../src/peers/frr.js';
import { gobgpAnnounceArgs, gobgpApiPort, gobgpConfig } from '../src/peers/gobgp.js';
import { searchableByOthers, validatePeerOptions } from '../src/peers/peer-base.js';
import type { PeerOptions } from '../src/peers/types.js';
import { fakeHost } from './fake-host.js';

const base = (extra: Partial<PeerOptions> = {}): PeerOptions => ({
  host: fakeHost(),
  asn: 64512,
  neighbors: [
    { address: '192.0.2.1', asn: 64513, passive: true },
    { address: '2001:db8:0:1::1', asn: 64513 },
  ],
  ...extra,
});

const lines = (text: string) => text.split('\n').map((l) => l.trim());

describe('FRR bgpd.conf', () => {
  it('accepts everything, exports only its own routes and never needs a policy', () => {
    const c = frrBgpdConfig(base(), '/tmp/d', 'h');
    const l = lines(c);
    expect(l).toContain('router bgp 64512');
    expect(l).toContain('bgp router-id 192.0.2.2');
    expect(l).toContain('no bgp ebgp-requires-policy');
    expect(l).toContain('no bgp network import-check');
    expect(l).toContain('no bgp default ipv4-unicast');
    expect(l).toContain('bgp as-path access-list LOCAL seq 5 permit ^$');
    expect(l).toContain('neighbor 192.0.2.1 passive');
    expect(l).not.toContain('neighbor 2001:db8:0:1::1 passive');
    expect(l).toContain('neighbor 2001:db8:0:1::1 timers connect 1');
    expect(l).toContain('log file /tmp/d/bgpd.log informational');
    // Each neighbor is activated in its own transport's family only.
    const v4 = c.slice(c.indexOf('address-family ipv4'), c.indexOf('address-family ipv6'));
    expect(v4).toContain('neighbor 192.0.2.1 activate');
    expect(v4).toContain('neighbor 192.0.2.1 route-map OUT out');
    expect(v4).not.toContain('2001:db8:0:1::1');
  });

  it('renders neighbor options and announcements with attributes', () => {
    const c = frrBgpdConfig(
      base({
        routerId: '192.0.2.200',
        neighbors: [
          {
            address: '192.0.2.1',
            asn: 64513,
            password: 'pw',
            holdTime: 9,
            multihop: 2,
            gracefulRestart: true,
            addPath: true,
            families: ['ipv4', 'ipv6'],
          },
          { address: '192.0.2.3', asn: 64514, ttlSecurity: true },
        ],
        announce: [
          { prefix: '198.51.100.0/24', communities: ['64512:1', 'no-export'], largeCommunities: ['64512:2:3'], med: 7 },
          { prefix: '2001:db8:100::/48', nextHop: '2001:db8:0:1::99', localPref: 300 },
        ],
        extraConfig: 'line vty',
      }),
      '/d',
      'h',
    );
    const l = lines(c);
    expect(l).toContain('bgp router-id 192.0.2.200');
    expect(l).toContain('neighbor 192.0.2.1 password pw');
    expect(l).toContain('neighbor 192.0.2.1 timers 3 9');
    expect(l).toContain('neighbor 192.0.2.1 ebgp-multihop 2');
    expect(l).toContain('neighbor 192.0.2.1 graceful-restart');
    expect(l).toContain('neighbor 192.0.2.1 addpath-tx-all-paths');
    expect(l).toContain('neighbor 192.0.2.3 ttl-security hops 1');
    expect(l).toContain('set community 64512:1 65535:65281');
    expect(l).toContain('set large-community 64512:2:3');
    expect(l).toContain('set metric 7');
    expect(l).toContain('set local-preference 300');
    expect(l).toContain('set ipv6 next-hop global 2001:db8:0:1::99');
    expect(l).toContain('network 198.51.100.0/24 route-map ANN0');
    expect(l).toContain('network 2001:db8:100::/48 route-map ANN1');
    const v6 = c.slice(c.indexOf('address-family ipv6'));
    expect(v6).toContain('neighbor 192.0.2.1 activate');
    expect(c.trimEnd().endsWith('line vty')).toBe(true);
  });

  it('acceptAny listens on the host subnets with any external ASN', () => {
    const c = frrBgpdConfig(base({ neighbors: [], acceptAny: true }), '/d', 'h');
    const l = lines(c);
    expect(l).toContain('neighbor ANY peer-group');
    expect(l).toContain('neighbor ANY remote-as external');
    expect(l).toContain('bgp listen range 192.0.2.0/24 peer-group ANY');
    expect(l).toContain('bgp listen range 2001:db8:0:1::/64 peer-group ANY');
    expect(c.match(/neighbor ANY activate/g)).toHaveLength(2);
  });
});

describe('BIRD bird.conf', () => {
  it('has protocol device, fast error wait and connect delay, and exports static routes only', () => {
    const c = birdConfig(base({ announce: [{ prefix: '198.51.100.1/32', communities: ['64512:5'], med: 10 }] }), '/d');
    const l = lines(c);
    expect(l).toContain('protocol device { }');
    expect(l).toContain('router id 192.0.2.2;');
    expect(l).toContain('log "/d/bird.log" all;');
    expect(l).toContain('if source != RTS_STATIC then reject;');
    expect(l).toContain('if net = 198.51.100.1/32 then { bgp_community.add((64512,5)); bgp_med = 10; }');
    expect(l).toContain('route 198.51.100.1/32 blackhole;');
    expect(l).toContain('error wait time 1, 5;');
    expect(l).toContain('connect delay time 1;');
    expect(l).toContain('passive on;');
    expect(l).toContain('passive off;');
    expect(l).toContain('local 192.0.2.2 as 64512;');
    expect(l).toContain('local 2001:db8:0:1::2 as 64512;');
    expect(l).toContain('neighbor 2001:db8:0:1::1 as 64513;');
    expect(l).toContain('ipv4 { import all; export filter own_out; };');
    expect(l).toContain('ipv6 { import all; export filter own_out; };');
    expect(c).not.toContain('protocol static own_ipv6');
  });

  it('renders neighbor options', () => {
    const c = birdConfig(
      base({
        neighbors: [
          { address: '192.0.2.1', asn: 64512, password: 'p"w', holdTime: 6, gracefulRestart: true, addPath: true },
          { address: '192.0.2.3', asn: 64513, multihop: 3, ttlSecurity: false, families: ['ipv4', 'ipv6'] },
        ],
        announce: [{ prefix: '2001:db8:1::/48', largeCommunities: ['1:2:3'], localPref: 200, nextHop: '2001:db8::5' }],
      }),
      '/d',
    );
    const l = lines(c);
    expect(l).toContain('password "p\\"w";');
    expect(l).toContain('hold time 6;');
    expect(l).toContain('keepalive time 2;');
    expect(l).toContain('graceful restart on;');
    expect(l).toContain('ipv4 { import all; export filter own_out; add paths on; };');
    expect(l).toContain('multihop 3;');
    expect(l).toContain('direct;');
    expect(l).toContain('ipv6 { import all; export filter own_out; next hop address 2001:db8:0:1::2; };');
    expect(c).toContain('bgp_large_community.add((1,2,3)); bgp_local_pref = 200; bgp_next_hop = 2001:db8::5;');
  });
});

describe('GoBGP gobgpd.toml', () => {
  it('exports local routes only and renders neighbor options', () => {
    const c = gobgpConfig(
      base({
        neighbors: [
          { address: '192.0.2.1', asn: 64513, passive: true, password: 'pw', holdTime: 9, gracefulRestart: true },
          { address: '2001:db8:0:1::1', asn: 64513, multihop: 4, addPath: true },
          { address: '192.0.2.3', asn: 64514, ttlSecurity: true },
        ],
      }),
    );
    const l = lines(c);
    expect(l).toContain('route-type = "local"');
    expect(l).toContain('default-export-policy = "reject-route"');
    expect(l).toContain('default-import-policy = "accept-route"');
    expect(l).toContain('neighbor-address = "192.0.2.1"');
    expect(l).toContain('passive-mode = true');
    expect(l).toContain('auth-password = "pw"');
    expect(l).toContain('hold-time = 9');
    expect(l).toContain('keepalive-interval = 3');
    expect(l).toContain('connect-retry = 1');
    expect(l).toContain('multihop-ttl = 4');
    expect(l).toContain('ttl-min = 255');
    expect(l).toContain('send-max = 8');
    expect(l).toContain('afi-safi-name = "ipv6-unicast"');
    expect(l).toContain('local-address = "2001:db8:0:1::2"');
    expect(c.match(/passive-mode/g)).toHaveLength(1);
  });

  it('announces routes through the CLI with attributes', () => {
    expect(
      gobgpAnnounceArgs(
        { prefix: '198.51.100.0/24', communities: ['64512:1'], largeCommunities: ['1:2:3'], med: 4, localPref: 150 },
        '192.0.2.2',
      ),
    ).toEqual([
      'global',
      'rib',
      'add',
      '-a',
      'ipv4',
      '198.51.100.0/24',
      'nexthop',
      '192.0.2.2',
      'community',
      '64512:1',
      'large-community',
      '1:2:3',
      'med',
      '4',
      'local-pref',
      '150',
    ]);
    expect(gobgpApiPort()).not.toBe(gobgpApiPort());
  });
});

describe('ExaBGP exabgp.conf and environment', () => {
  it('declares the JSON sink and static routes per family', () => {
    const c = exabgpConfig(
      base({
        announce: [
          { prefix: '198.51.100.1/32', communities: ['64512:1'], med: 10, localPref: 200 },
          { prefix: '2001:db8:100::1/128', nextHop: '2001:db8:0:1::2', largeCommunities: ['1:2:3'] },
        ],
      }),
      '/d',
      '/lab/sink.py',
    );
    const l = lines(c);
    expect(l).toContain('run /usr/bin/python3 /lab/sink.py /d;');
    expect(l).toContain('encoder json;');
    expect(l).toContain('local-address 192.0.2.2;');
    expect(l).toContain('local-address 2001:db8:0:1::2;');
    expect(l).toContain('passive true;');
    expect(l).toContain('api { processes [ lab ]; receive { parsed; update; } neighbor-changes; }');
    expect(l).toContain('route 198.51.100.1/32 next-hop self community [64512:1] local-preference 200 med 10;');
    expect(l).toContain('route 2001:db8:100::1/128 next-hop 2001:db8:0:1::2 large-community [1:2:3];');
    // each static route sits in the block of a neighbor of its family
    const v4Block = c.slice(c.indexOf('neighbor 192.0.2.1'), c.indexOf('neighbor 2001:db8:0:1::1'));
    expect(v4Block).toContain('198.51.100.1/32');
    expect(v4Block).not.toContain('2001:db8:100::1/128');
  });

  it('binds only the addresses of passive neighbors and runs as root', () => {
    const env = exabgpEnvironment(base(), '/d');
    expect(env['exabgp.tcp.bind']).toBe('192.0.2.2');
    expect(env['exabgp.daemon.user']).toBe('root');
    expect(env['exabgp.api.cli']).toBe('false');
    expect(exabgpEnvironment(base({ neighbors: [{ address: '192.0.2.1', asn: 1 }] }), '/d')['exabgp.tcp.bind']).toBe(
      '',
    );
  });
});

describe('startPeer option validation', () => {
  it('rejects bad ASNs, missing neighbors, multihop with GTSM and acceptAny outside FRR', () => {
    expect(() => validatePeerOptions('frr', base({ asn: 0 }))).toThrow(/bad asn/);
    expect(() => validatePeerOptions('bird', base({ neighbors: [] }))).toThrow(/no neighbors/);
    expect(() =>
      validatePeerOptions(
        'gobgp',
        base({ neighbors: [{ address: '192.0.2.1', asn: 1, multihop: 2, ttlSecurity: true }] }),
      ),
    ).toThrow(/exclude/);
    expect(() => validatePeerOptions('bird', base({ acceptAny: true }))).toThrow(/frr only/);
    expect(() => validatePeerOptions('frr', base({ neighbors: [], acceptAny: true }))).not.toThrow();
  });
});

describe('peer directories', () => {
  it('checks that every parent is searchable by other users (FRR runs as user frr)', () => {
    const top = mkdtempSync(join(tmpdir(), 'ingot-search-'));
    try {
      const inner = join(top, 'inner');
      mkdirSync(inner, { mode: 0o755 });
      chmodSync(top, 0o700);
      expect(searchableByOthers(inner)).toBe(false);
      chmodSync(top, 0o755);
      expect(searchableByOthers(inner)).toBe(searchableByOthers(tmpdir()));
      expect(searchableByOthers('/nonexistent/ingot')).toBe(false);
    } finally {
      rmSync(top, { recursive: true, force: true });
    }
  });
});

describe('BFD in the lab peers', () => {
  const withBfd = () =>
    base({
      neighbors: [
        { address: '192.0.2.1', asn: 64513, bfd: { receiveInterval: 50, transmitInterval: 60, passive: true } },
        { address: '2001:db8:0:1::1', asn: 64513 },
      ],
    });

  it('FRR: the neighbor uses its bfdd profile, and bfdd.conf has its timers', () => {
    const l = lines(frrBgpdConfig(withBfd(), '/tmp/d', 'h'));
    expect(l).toContain('neighbor 192.0.2.1 bfd');
    expect(l).toContain('neighbor 192.0.2.1 bfd profile lab0');
    expect(l.some((x) => x.startsWith('neighbor 2001:db8:0:1::1 bfd'))).toBe(false);
    const b = lines(frrBfddConfig(withBfd(), '/tmp/d', 'h'));
    expect(b).toEqual(expect.arrayContaining(['bfd', 'profile lab0', 'receive-interval 50', 'transmit-interval 60']));
    expect(b).toContain('detect-multiplier 3');
    expect(b).toContain('passive-mode');
    expect(b).not.toContain('profile lab1');
  });

  it('BIRD: protocol bfd with the timers, bfd on in the neighbor that asked', () => {
    const c = birdConfig(withBfd(), '/tmp/d');
    expect(c).toContain(
      'protocol bfd { interface "*" { min rx interval 50 ms; min tx interval 60 ms; multiplier 3; passive on; }; }',
    );
    expect(c.split('protocol bgp')[1]).toContain('bfd on;');
    expect(c.split('protocol bgp')[2]).not.toContain('bfd on;');
    expect(birdConfig(base(), '/tmp/d')).not.toContain('bfd');
  });
});
