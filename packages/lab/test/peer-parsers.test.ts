import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { birdProtocolName, parseBirdProtocols, parseBirdRoutes } from '../src/peers/bird.js';
import { parseExabgpRib, parseExabgpSessions } from '../src/peers/exabgp.js';
import { frrConfigProblems, parseFrrNeighbors, parseFrrRoutes } from '../src/peers/frr.js';
import { parseGobgpNeighbors, parseGobgpRib } from '../src/peers/gobgp.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

// The fixtures are real outputs captured in the lab: ExaBGP/BIRD (AS 64513, 192.0.2.1 / 2001:db8:0:1::1) sent
// 198.51.100.1/32 (communities 64513:100 [+ no-export], large 64513:1:2, MED 10) and 2001:db8:100::1/128; the
// receiver (AS 64512, .2 / ::2) originated 203.0.113.0/24 (64512:7, large 64512:1:2) and 2001:db8:ff::/48.

describe('FRR output parsing', () => {
  it('normalizes received routes and leaves out its own', () => {
    expect(parseFrrRoutes(fixture('frr-ipv4-json-detail.json'))).toEqual([
      {
        prefix: '198.51.100.1/32',
        nextHop: '192.0.2.1',
        asPath: [64513],
        communities: ['64513:100', '65535:65281'],
        largeCommunities: ['64513:1:2'],
        med: 10,
        origin: 'igp',
        peer: '192.0.2.1',
      },
    ]);
    const v6 = parseFrrRoutes(fixture('frr-ipv6-json-detail.json'));
    expect(v6).toHaveLength(1);
    expect(v6[0]).toMatchObject({ prefix: '2001:db8:100::1/128', nextHop: '2001:db8:0:1::1', peer: '2001:db8:0:1::1' });
  });

  it('reads session states and uptime', () => {
    const s = parseFrrNeighbors(fixture('frr-neighbors.json'));
    expect(Object.keys(s).sort()).toEqual(['192.0.2.1', '2001:db8:0:1::1']);
    expect(s['192.0.2.1']).toEqual({ state: 'Established', uptimeMs: 1000 });
    expect(parseFrrNeighbors('{"192.0.2.9":{"bgpState":"Active","bgpTimerUpMsec":0}}')).toEqual({
      '192.0.2.9': { state: 'Active' },
    });
  });

  it('finds config errors in bgpd -C output but tolerates the graceful-restart reset warning', () => {
    const out = [
      'Graceful restart configuration changed, reset this peer to take effect',
      'BGP: [SHWNK-NWT5S][EC 100663304] Command returned Warning Config Failed on config line 3:  neighbor 192.0.2.1 bogus',
      'BGP: [SHWNK-NWT5S][EC 100663304] Command returned Warning Config Failed on config line 5:  neighbor 192.0.2.1 graceful-restart',
      'BGP: [SHWNK-NWT5S][EC 100663304] No such command on config line 6:  neighbor 192.0.2.1 bogus-knob',
    ].join('\n');
    expect(frrConfigProblems(out)).toHaveLength(2);
    expect(frrConfigProblems(out)[1]).toContain('bogus-knob');
    expect(frrConfigProblems(out)[0]).toContain('bogus');
    expect(frrConfigProblems('')).toEqual([]);
  });
});

describe('BIRD output parsing', () => {
  const protocols = { [birdProtocolName(0)]: '192.0.2.2', [birdProtocolName(1)]: '2001:db8:0:1::2' };

  it('normalizes `show route all`, keeping only routes from BGP neighbors', () => {
    expect(parseBirdRoutes(fixture('bird-show-route-all.txt'), protocols)).toEqual([
      {
        prefix: '2001:db8:ff::/48',
        nextHop: '2001:db8:0:1::2',
        asPath: [64512],
        communities: [],
        largeCommunities: [],
        localPref: 100,
        origin: 'incomplete',
        peer: '2001:db8:0:1::2',
      },
      {
        prefix: '203.0.113.0/24',
        nextHop: '192.0.2.2',
        asPath: [64512],
        communities: ['64512:7'],
        largeCommunities: ['64512:1:2'],
        med: 5,
        localPref: 100,
        origin: 'incomplete',
        peer: '192.0.2.2',
      },
    ]);
  });

  it('handles several paths for one prefix and a global + link-local next hop', () => {
    const text = [
      'Table master6:',
      '2001:db8:300::/48    unicast [peer_1 10:00:00.000] * (100) [AS64512i]',
      '\tvia 2001:db8:0:1::2 on veth-a',
      '\tType: BGP univ',
      '\tBGP.origin: IGP',
      '\tBGP.as_path: 64512 {64600 64601}',
      '\tBGP.next_hop: 2001:db8:0:1::2 fe80::1',
      '                     unicast [peer_0 10:00:01.000] (100) [AS64513i]',
      '\tvia 192.0.2.3 on veth-a',
      '\tType: BGP univ',
      '\tBGP.origin: EGP',
      '\tBGP.as_path: 64513',
      '\tBGP.next_hop: fe80::2',
    ].join('\n');
    const routes = parseBirdRoutes(text, protocols);
    expect(routes.map((r) => [r.prefix, r.peer, r.nextHop, r.asPath, r.origin])).toEqual([
      ['2001:db8:300::/48', '192.0.2.2', 'fe80::2', [64513], 'egp'],
      ['2001:db8:300::/48', '2001:db8:0:1::2', '2001:db8:0:1::2', [64512, 64600, 64601], 'igp'],
    ]);
  });

  it('reads protocol states', () => {
    expect(parseBirdProtocols(fixture('bird-show-protocols.txt'))).toEqual({
      peer_0: 'Established',
      peer_1: 'Established',
    });
    expect(
      parseBirdProtocols(
        'peer_0     BGP        ---        start  10:00:00.000  Active        Socket: Connection refused\n' +
          'peer_1     BGP        ---        start  10:00:00.000  Passive\n' +
          'peer_2     BGP        ---        down   10:00:00.000',
      ),
    ).toEqual({ peer_0: 'Active', peer_1: 'Active', peer_2: 'Idle' });
  });
});

describe('GoBGP output parsing', () => {
  it('normalizes the global RIB and leaves out locally added routes', () => {
    expect(parseGobgpRib(fixture('gobgp-global-rib-ipv4.json'))).toEqual([
      {
        prefix: '198.51.100.1/32',
        nextHop: '192.0.2.1',
        asPath: [64513],
        communities: ['64513:100', '65535:65281'],
        largeCommunities: ['64513:1:2'],
        med: 10,
        origin: 'igp',
        peer: '192.0.2.1',
      },
    ]);
    expect(parseGobgpRib(fixture('gobgp-global-rib-ipv6.json'))).toEqual([
      {
        prefix: '2001:db8:100::1/128',
        nextHop: '2001:db8:0:1::1',
        asPath: [64513],
        communities: ['64513:100'],
        largeCommunities: [],
        origin: 'igp',
        peer: '2001:db8:0:1::1',
      },
    ]);
    expect(parseGobgpRib('')).toEqual([]);
  });

  it('reads numeric session states and uptime', () => {
    const now = 1795757206_000 + 2500;
    const s = parseGobgpNeighbors(fixture('gobgp-neighbors.json'), now);
    expect(s['192.0.2.1']).toEqual({ state: 'Established', uptimeMs: 2500 });
    expect(parseGobgpNeighbors('[{"state":{"neighbor_address":"192.0.2.9","session_state":3}}]')).toEqual({
      '192.0.2.9': { state: 'Active' },
    });
  });
});

describe('ExaBGP sink state parsing', () => {
  const state = JSON.parse(fixture('exabgp-sink-state.json'));

  it('normalizes the recorded RIB (ExaBGP reports only the link-local next hop FRR sent)', () => {
    const routes = parseExabgpRib(state);
    expect(routes[1]).toEqual({
      prefix: '203.0.113.0/24',
      nextHop: '192.0.2.2',
      asPath: [64512],
      communities: ['64512:7'],
      largeCommunities: ['64512:1:2'],
      med: 0,
      origin: 'igp',
      peer: '192.0.2.2',
    });
    expect(routes[0]?.prefix).toBe('2001:db8:ff::/48');
    expect(routes[0]?.nextHop).toMatch(/^fe80::/);
  });

  it('reports configured neighbors as Idle until ExaBGP reports them', () => {
    expect(
      parseExabgpSessions({ sessions: { '192.0.2.2': 'Established', '2001:db8:0:1::2': 'down' } }, ['192.0.2.9']),
    ).toEqual({
      '192.0.2.9': { state: 'Idle' },
      '192.0.2.2': { state: 'Established' },
      '2001:db8:0:1::2': { state: 'Idle' },
    });
  });
});
