import { describe, expect, it } from 'vitest';
import {
  BgpError,
  communityFromNumber,
  communityName,
  communityToNumber,
  createOpen,
  decodeMessage,
  decodeShutdownCommunication,
  encodeMessage,
  encodeShutdownCommunication,
  isBgpError,
  largeCommunityFromNumbers,
  largeCommunityToNumbers,
  type NotificationMessage,
  negotiate,
  notifications,
  type OpenMessage,
  openAsn,
  propagatedAttributes,
  reconstructAggregator,
  reconstructAsPath,
} from '../../src/internal.js';
import { hex, testEncoder, toHex } from './helpers.js';

describe('communities', () => {
  it('converts between A:B, names and numbers', () => {
    expect(communityToNumber('64512:100')).toBe(64512 * 65536 + 100);
    expect(communityToNumber('no-export')).toBe(0xffffff01);
    expect(communityToNumber('blackhole')).toBe(0xffff029a);
    expect(communityToNumber('4294967295')).toBe(0xffffffff);
    expect(communityFromNumber(0xffffff02)).toBe('65535:65282');
    expect(communityName('65535:65281')).toBe('no-export');
    expect(communityName(0xffff0000)).toBe('graceful-shutdown');
    expect(communityName('1:1')).toBeUndefined();
  });

  it('encodes well-known names and decodes them as A:B', () => {
    const bytes = encodeMessage({
      type: 'update',
      withdrawn: [],
      attributes: { communities: ['no-export', 'no-advertise'] },
      nlri: [],
    });
    const m = decodeMessage(bytes);
    expect(m.type === 'update' && m.attributes.communities).toEqual(['65535:65281', '65535:65282']);
  });

  it('rejects malformed communities with RangeError', () => {
    for (const bad of ['65536:1', '1:65536', 'a:b', '1:2:3', '', 'no-such-name', '-1:2', '1.5:2'])
      expect(() => communityToNumber(bad), bad).toThrow(RangeError);
  });

  it('converts large communities', () => {
    expect(largeCommunityToNumbers('4200000000:1:2')).toEqual([4200000000, 1, 2]);
    expect(largeCommunityFromNumbers(1, 2, 3)).toBe('1:2:3');
    for (const bad of ['1:2', '4294967296:1:1', '1:2:3:4', 'a:b:c'])
      expect(() => largeCommunityToNumbers(bad), bad).toThrow(RangeError);
  });
});

describe('notifications (RFC 4271 §4.5/§6, RFC 4486, RFC 9003, RFC 8538, RFC 7313)', () => {
  const attr = hex('40010103');
  const table: [string, NotificationMessage, number, number, string][] = [
    ['connection not synchronized', notifications.connectionNotSynchronized(), 1, 1, ''],
    ['bad message length', notifications.badMessageLength(5000), 1, 2, '1388'],
    ['bad message type', notifications.badMessageType(9), 1, 3, '09'],
    ['unsupported version', notifications.unsupportedVersionNumber(), 2, 1, '0004'],
    ['bad peer AS', notifications.badPeerAs(), 2, 2, ''],
    ['bad BGP identifier', notifications.badBgpIdentifier(), 2, 3, ''],
    ['unsupported optional parameter', notifications.unsupportedOptionalParameter(), 2, 4, ''],
    ['unacceptable hold time', notifications.unacceptableHoldTime(), 2, 6, ''],
    ['unsupported capability', notifications.unsupportedCapability(hex('4104 0000fde9')), 2, 7, '41040000fde9'],
    ['role mismatch', notifications.roleMismatch(), 2, 11, ''],
    ['OPEN unspecific', notifications.openUnspecific(), 2, 0, ''],
    ['malformed attribute list', notifications.malformedAttributeList(), 3, 1, ''],
    ['unrecognized well-known', notifications.unrecognizedWellKnownAttribute(attr), 3, 2, '40010103'],
    ['missing well-known', notifications.missingWellKnownAttribute(3), 3, 3, '03'],
    ['attribute flags', notifications.attributeFlagsError(attr), 3, 4, '40010103'],
    ['attribute length', notifications.attributeLengthError(attr), 3, 5, '40010103'],
    ['invalid ORIGIN', notifications.invalidOriginAttribute(attr), 3, 6, '40010103'],
    ['invalid NEXT_HOP', notifications.invalidNextHopAttribute(attr), 3, 8, '40010103'],
    ['optional attribute', notifications.optionalAttributeError(attr), 3, 9, '40010103'],
    ['invalid network field', notifications.invalidNetworkField(), 3, 10, ''],
    ['malformed AS_PATH', notifications.malformedAsPath(), 3, 11, ''],
    ['hold timer expired', notifications.holdTimerExpired(), 4, 0, ''],
    ['FSM error (RFC 6608)', notifications.fsmError('OpenConfirm', 2), 5, 2, '02'],
    ['FSM error unspecified', notifications.fsmError(), 5, 0, ''],
    ['max prefixes', notifications.maximumPrefixesReached({ afi: 1, safi: 1, limit: 1000 }), 6, 1, '000101000003e8'],
    ['admin shutdown', notifications.administrativeShutdown(), 6, 2, ''],
    ['admin shutdown with text', notifications.administrativeShutdown('bye'), 6, 2, '03627965'],
    ['peer deconfigured', notifications.peerDeconfigured(), 6, 3, ''],
    ['admin reset', notifications.administrativeReset('x'), 6, 4, '0178'],
    ['connection rejected', notifications.connectionRejected(), 6, 5, ''],
    ['other configuration change', notifications.otherConfigurationChange(), 6, 6, ''],
    ['collision resolution', notifications.connectionCollisionResolution(), 6, 7, ''],
    ['out of resources', notifications.outOfResources(), 6, 8, ''],
    ['hard reset (RFC 8538)', notifications.hardReset(notifications.holdTimerExpired()), 6, 9, '0400'],
    ['BFD down (RFC 9384)', notifications.bfdDown(), 6, 10, ''],
    ['ROUTE-REFRESH length', notifications.routeRefreshInvalidLength(hex('0102')), 7, 1, '0102'],
  ];
  for (const [name, n, code, subcode, data] of table) {
    it(name, () => {
      expect([n.type, n.code, n.subcode, toHex(n.data)]).toEqual(['notification', code, subcode, data]);
      testEncoder(n);
    });
  }

  it('round-trips a shutdown communication, and cuts one over 255 octets at a UTF-8 boundary', () => {
    const n = decodeMessage(encodeMessage(notifications.administrativeShutdown('maintenance: ticket #42 ✓')));
    expect(n.type === 'notification' && decodeShutdownCommunication(n)).toBe('maintenance: ticket #42 ✓');
    const long = encodeShutdownCommunication('é'.repeat(200));
    expect(long[0]).toBe(254);
    expect(decodeShutdownCommunication({ type: 'notification', code: 6, subcode: 2, data: long })).toBe(
      'é'.repeat(127),
    );
  });

  it('ignores a malformed shutdown communication (RFC 9003 §4)', () => {
    const bad = (data: string, subcode = 2) =>
      decodeShutdownCommunication({ type: 'notification', code: 6, subcode, data: hex(data) });
    expect(bad('05 6869')).toBeUndefined(); // length beyond the data
    expect(bad('02 c328')).toBeUndefined(); // invalid UTF-8
    expect(bad('02 6869', 3)).toBeUndefined(); // not subcode 2 or 4
    expect(bad('02 6869')).toBe('hi');
  });
});

describe('BgpError', () => {
  it('carries code, subcode and data, and is recognized by name', () => {
    const e = new BgpError(3, 5, hex('40010100'), 'why');
    expect(e).toBeInstanceOf(Error);
    expect([e.name, e.code, e.subcode, toHex(e.data), e.message]).toEqual(['BgpError', 3, 5, '40010100', 'why']);
    expect(isBgpError(e)).toBe(true);
    expect(isBgpError({ name: 'BgpError' })).toBe(true);
    expect(isBgpError(new Error('x'))).toBe(false);
    expect(isBgpError(null)).toBe(false);
  });
});

describe('createOpen, openAsn and negotiate', () => {
  it('builds MetalLB’s OPEN byte for byte (metallb.md §4.2)', () => {
    const m = createOpen({ asn: 65002, bgpId: '185.236.240.39', routeRefresh: false });
    expect(toHex(encodeMessage(m))).toBe(
      toHex(hex('ff×16 0031 01 04 fdea 005a b9ecf027 14 02 12 0104 0001 0001 0104 0002 0001 4104 0000fdea')),
    );
  });

  it('puts AS_TRANS in the 2-octet field for a 4-octet AS', () => {
    const m = createOpen({ asn: 4200000000, bgpId: '192.0.2.1', holdTime: 30, extendedMessages: true });
    expect(m.myAsn).toBe(23456);
    expect(openAsn(m)).toBe(4200000000);
    expect(m.capabilities.map((c) => c.type)).toEqual([
      'multiprotocol',
      'multiprotocol',
      'route-refresh',
      'extended-message',
      'four-octet-as',
    ]);
    testEncoder(m);
  });

  it('rejects a hold time of 1 or 2 and AS 0', () => {
    expect(() => createOpen({ asn: 1, bgpId: '192.0.2.1', holdTime: 2 })).toThrow(RangeError);
    expect(() => createOpen({ asn: 0, bgpId: '192.0.2.1' })).toThrow(RangeError);
  });

  it('negotiates hold time, families, 4-octet AS, extended messages and add-path per direction', () => {
    const local = createOpen({
      asn: 64512,
      bgpId: '192.0.2.1',
      holdTime: 90,
      extendedMessages: true,
      addPath: [{ afi: 1, safi: 1, sendReceive: 'send' }],
    });
    const remote: OpenMessage = {
      type: 'open',
      version: 4,
      myAsn: 23456,
      holdTime: 30,
      bgpId: '192.0.2.2',
      capabilities: [
        { type: 'multiprotocol', afi: 1, safi: 1 },
        { type: 'route-refresh', cisco: true },
        { type: 'four-octet-as', asn: 4200000001 },
        { type: 'add-path', families: [{ afi: 1, safi: 1, sendReceive: 'both' }] },
        { type: 'graceful-restart', restarting: false, notification: true, restartTime: 120, families: [] },
      ],
    };
    const n = negotiate(local, remote, false);
    expect(n).toMatchObject({
      holdTime: 30,
      keepaliveTime: 10,
      peerAsn: 4200000001,
      families: [{ afi: 1, safi: 1 }],
      fourOctetAs: true,
      extendedMessages: false,
      routeRefresh: true,
      enhancedRouteRefresh: false,
      send: { fourOctetAs: true, extendedMessages: false, addPath: { ipv4Unicast: true }, internal: false },
      receive: { fourOctetAs: true, extendedMessages: false, internal: false },
    });
    expect(n.receive.addPath).toBeUndefined();
    expect(n.peerGracefulRestart?.restartTime).toBe(120);
  });

  it('implies IPv4 unicast when a side sends no multiprotocol capability (RFC 4760 §8)', () => {
    const local = createOpen({ asn: 64512, bgpId: '192.0.2.1' });
    const remote = decodeMessage(hex('ff×16 0025 0104 fc1f 0028 c0a81241 08 02 06 4104 0000fc1f')) as OpenMessage;
    expect(negotiate(local, remote).families).toEqual([{ afi: 1, safi: 1 }]);
  });
});

describe('prefix text', () => {
  const enc = (nlri: string[]) => encodeMessage({ type: 'update', withdrawn: nlri, attributes: {}, nlri: [] });
  it('masks host bits and accepts a bare address as /32', () => {
    const m = decodeMessage(enc(['192.0.2.77/24', '198.51.100.7']));
    expect(m.type === 'update' && m.withdrawn).toEqual(['192.0.2.0/24', '198.51.100.7/32']);
  });

  it('parses IPv6 text forms and prints RFC 5952 canonical text', () => {
    const bytes = encodeMessage({
      type: 'update',
      withdrawn: [],
      attributes: {
        mpUnreach: {
          afi: 2,
          safi: 1,
          withdrawn: [
            '2001:DB8:0:0:1:0:0:1/128',
            '::ffff:192.0.2.1/128',
            '2001:db8::/32',
            '::/0',
            '2001:db8:0:0:0:0:2:1/127',
          ],
        },
      },
      nlri: [],
    });
    const m = decodeMessage(bytes);
    expect(m.type === 'update' && m.attributes.mpUnreach?.withdrawn).toEqual([
      '2001:db8::1:0:0:1/128',
      '::ffff:192.0.2.1/128', // Go's netip text (RFC 5952 §5), the one @ingot/net prints
      '2001:db8::/32',
      '::/0',
      '2001:db8::2:0/127',
    ]);
  });

  it('rejects invalid prefixes with RangeError', () => {
    for (const bad of ['1.2.3/8', '256.0.0.0/8', '1.2.3.4/33', '1.2.3.4/', '1.2.3.4/x', '01234.1.1.1/8', ' 1.2.3.4/8'])
      expect(() => enc([bad]), bad).toThrow(RangeError);
    const enc6 = (p: string) =>
      encodeMessage({
        type: 'update',
        withdrawn: [],
        attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [p] } },
        nlri: [],
      });
    for (const bad of [
      '2001:db8:::/48',
      '2001:db8::/129',
      '1:2:3:4:5:6:7:8:9/64',
      'fffff::/16',
      ':1::/64',
      '1::2::3/64',
      'g::/8',
    ])
      expect(() => enc6(bad), bad).toThrow(RangeError);
  });
});

describe('decoded byte fields are copies', () => {
  it('do not alias a Node Buffer input (Buffer#slice is a view) and are plain Uint8Arrays', () => {
    const input = Buffer.from(encodeMessage(notifications.administrativeShutdown('bye')));
    const m = decodeMessage(input);
    if (m.type !== 'notification') throw new Error('expected a notification');
    expect(Object.getPrototypeOf(m.data)).toBe(Uint8Array.prototype);
    input.fill(0);
    expect(decodeShutdownCommunication(m)).toBe('bye');
  });
});

describe('attribute helpers', () => {
  it('propagatedAttributes drops unknown non-transitive attributes and sets Partial on transitive ones', () => {
    const a = propagatedAttributes({
      origin: 'igp',
      unknown: [
        { flags: 0xc0, type: 250, value: Uint8Array.of(1) },
        { flags: 0x80, type: 251, value: Uint8Array.of(2) },
      ],
      encoding: { extendedLength: [1] },
    });
    expect(a).toEqual({ origin: 'igp', unknown: [{ flags: 0xe0, type: 250, value: Uint8Array.of(1) }] });
  });

  it('reconstructAsPath merges AS_PATH and AS4_PATH (RFC 6793 §4.2.3)', () => {
    // a 2-octet speaker (65001) prepended itself in front of a path through 4-octet ASes
    const attrs = {
      asPath: [{ type: 'sequence' as const, asns: [65001, 23456, 23456, 64512] }],
      as4Path: [{ type: 'sequence' as const, asns: [4200000001, 4200000002, 64512] }],
    };
    expect(reconstructAsPath(attrs)).toEqual([{ type: 'sequence', asns: [65001, 4200000001, 4200000002, 64512] }]);
    // AS4_PATH longer than AS_PATH is ignored
    expect(reconstructAsPath({ asPath: [{ type: 'sequence', asns: [1] }], as4Path: attrs.as4Path })).toEqual([
      { type: 'sequence', asns: [1] },
    ]);
    // ignored when AGGREGATOR is not AS_TRANS
    expect(reconstructAsPath({ ...attrs, aggregator: { asn: 65001, address: '192.0.2.1' } })).toEqual(attrs.asPath);
    expect(reconstructAsPath({ asPath: attrs.asPath })).toEqual(attrs.asPath);
  });

  it('reconstructAggregator takes AS4_AGGREGATOR when AGGREGATOR is AS_TRANS', () => {
    const as4Aggregator = { asn: 4200000001, address: '192.0.2.9' };
    expect(reconstructAggregator({ aggregator: { asn: 23456, address: '192.0.2.9' }, as4Aggregator })).toEqual(
      as4Aggregator,
    );
    expect(reconstructAggregator({ aggregator: { asn: 1, address: '192.0.2.9' }, as4Aggregator })).toEqual({
      asn: 1,
      address: '192.0.2.9',
    });
  });

  it('a 2-octet encoding with large ASes adds AS4_PATH and AS4_AGGREGATOR that reconstruct the originals', () => {
    const attributes = {
      origin: 'igp' as const,
      asPath: [{ type: 'sequence' as const, asns: [4200000001, 64512] }],
      nextHop: '192.0.2.1',
      aggregator: { asn: 4200000001, address: '192.0.2.9' },
    };
    const m = decodeMessage(
      encodeMessage({ type: 'update', withdrawn: [], attributes, nlri: ['198.51.100.0/24'] }, { fourOctetAs: false }),
      { fourOctetAs: false },
    );
    if (m.type !== 'update') throw new Error('expected an update');
    expect(m.attributes.asPath).toEqual([{ type: 'sequence', asns: [23456, 64512] }]);
    expect(reconstructAsPath(m.attributes)).toEqual(attributes.asPath);
    expect(reconstructAggregator(m.attributes)).toEqual(attributes.aggregator);
  });
});
