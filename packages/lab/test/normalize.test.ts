import { describe, expect, it } from 'vitest';
import {
  canonicalIpv6,
  canonicalPrefix,
  communityString,
  familyOf,
  isLinkLocal,
  keepaliveFor,
  networkPrefix,
  normalizeOrigin,
  parseCommunity,
  parseLargeCommunity,
  pickNextHop,
  sortRoutes,
} from '../src/peers/normalize.js';

describe('route normalization helpers', () => {
  it('formats communities from every daemon representation', () => {
    expect(communityString(4227924068)).toBe('64513:100'); // GoBGP uint32
    expect(communityString([64513, 100])).toBe('64513:100'); // ExaBGP pair
    expect(communityString('64513:100')).toBe('64513:100');
    expect(communityString('noExport')).toBe('65535:65281'); // FRR JSON
    expect(communityString('no-export')).toBe('65535:65281');
    expect(communityString('blackhole')).toBe('65535:666');
    expect(communityString(4294967041)).toBe('65535:65281');
    expect(() => communityString('what')).toThrow(/unknown community/);
  });

  it('validates communities and large communities', () => {
    expect(parseCommunity('1:2')).toEqual([1, 2]);
    expect(parseCommunity('no-advertise')).toEqual([65535, 65282]);
    expect(() => parseCommunity('65536:1')).toThrow(/16-bit/);
    expect(parseLargeCommunity('4200000000:1:2')).toEqual([4200000000, 1, 2]);
    expect(() => parseLargeCommunity('1:2')).toThrow(/A:B:C/);
    expect(() => parseLargeCommunity('4294967296:1:2')).toThrow();
  });

  it('canonicalizes IPv6 text (RFC 5952)', () => {
    expect(canonicalIpv6('2001:DB8:0:1:0:0:0:1')).toBe('2001:db8:0:1::1');
    expect(canonicalIpv6('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIpv6('2001:0db8::0001')).toBe('2001:db8::1');
    expect(canonicalIpv6('::')).toBe('::');
    expect(canonicalIpv6('::ffff:192.0.2.1')).toBe('::ffff:c000:201');
    expect(canonicalIpv6('1:2:3:4:5:6:7:8')).toBe('1:2:3:4:5:6:7:8');
    expect(canonicalIpv6('1:0:3:4:5:6:7:8')).toBe('1:0:3:4:5:6:7:8');
    expect(canonicalPrefix('2001:db8:100:0:0:0:0:1/128')).toBe('2001:db8:100::1/128');
    expect(canonicalPrefix('198.51.100.0/24')).toBe('198.51.100.0/24');
  });

  it('computes network prefixes for listen ranges', () => {
    expect(networkPrefix('192.0.2.1', 24)).toBe('192.0.2.0/24');
    expect(networkPrefix('198.51.100.77', 26)).toBe('198.51.100.64/26');
    expect(networkPrefix('203.0.113.9', 32)).toBe('203.0.113.9/32');
    expect(networkPrefix('2001:db8:0:1::1', 64)).toBe('2001:db8:0:1::/64');
    expect(networkPrefix('2001:db8:abcd:1234::1', 36)).toBe('2001:db8:a000::/36');
  });

  it('prefers a global next hop over a link-local one', () => {
    expect(pickNextHop(['fe80::1', '2001:db8::1'])).toBe('2001:db8::1');
    expect(pickNextHop(['fe80::1'])).toBe('fe80::1');
    expect(pickNextHop(['::', undefined, '192.0.2.1'])).toBe('192.0.2.1');
    expect(pickNextHop([])).toBe('');
    expect(isLinkLocal('FE80::1')).toBe(true);
    expect(isLinkLocal('2001:db8::1')).toBe(false);
  });

  it('maps families, origins and keepalives', () => {
    expect(familyOf('2001:db8::/32')).toBe('ipv6');
    expect(familyOf('192.0.2.1')).toBe('ipv4');
    expect([0, 1, 2, 'IGP', 'Incomplete', 'e', '?', 'x', null].map(normalizeOrigin)).toEqual([
      'igp',
      'egp',
      'incomplete',
      'igp',
      'incomplete',
      'egp',
      'incomplete',
      undefined,
      undefined,
    ]);
    expect(keepaliveFor(9)).toBe(3);
    expect(keepaliveFor(10)).toBe(3);
    expect(keepaliveFor(3)).toBe(1);
    expect(keepaliveFor(0)).toBe(0);
    expect(() => keepaliveFor(2)).toThrow(/holdTime/);
  });

  it('sorts routes by prefix then peer', () => {
    const r = (prefix: string, peer: string) => ({
      prefix,
      peer,
      nextHop: '',
      asPath: [],
      communities: [],
      largeCommunities: [],
    });
    expect(sortRoutes([r('b', '2'), r('a', '9'), r('b', '1')]).map((x) => `${x.prefix}${x.peer}`)).toEqual([
      'a9',
      'b1',
      'b2',
    ]);
  });
});
