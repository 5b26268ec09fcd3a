import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../src/codec/index.js';
import type { UpdateMessage } from '../../src/codec/types.js';
import {
  AdjRibOut,
  type Announcement,
  announcementKey,
  BgpSpeaker,
  type ExportContext,
} from '../../src/speaker/index.js';

const ann = (options: Announcement['options'] = {}): Announcement => ({ key: announcementKey(options), options });
const OURS = 'fe80::5041:c8ff:fe70:9f25';

/** An eBGP session between link-local addresses (BGP unnumbered) that negotiated extended next hop. */
const UNNUMBERED: ExportContext = {
  localAsn: 64513,
  internal: false,
  families: ['ipv4', 'ipv6'],
  codec: { fourOctetAs: true },
  peerAddress: 'fe80::9468:b8ff:fe5b:c8cb%veth-a',
  localAddress: OURS,
  linkLocal6: OURS,
  ipv4NextHopIPv6: true,
};

function flush(ctx: ExportContext, routes: [string, Announcement][]): UpdateMessage[] {
  const rib = new AdjRibOut();
  rib.reset(ctx);
  return rib.flush(new Map(routes)).messages.map((m) => decodeMessage(m, ctx.codec) as UpdateMessage);
}

describe('export over an unnumbered session (RFC 8950)', () => {
  it('sends IPv4 prefixes in MP_REACH_NLRI AFI 1 with our link-local as the only (16-octet) next hop', () => {
    const [u4, u6] = flush(UNNUMBERED, [
      ['198.51.100.0/24', ann()],
      ['2001:db8:100::/48', ann()],
    ]);
    expect(u4?.nlri).toEqual([]);
    expect(u4?.attributes.nextHop).toBeUndefined();
    expect(u4?.attributes.mpReach).toEqual({ afi: 1, safi: 1, nextHop: OURS, nlri: ['198.51.100.0/24'] });
    expect(u6?.attributes.mpReach).toEqual({ afi: 2, safi: 1, nextHop: OURS, nlri: ['2001:db8:100::/48'] });
  });

  it('sends a configured global IPv6 next hop with the link-local after it (32 octets)', () => {
    const [u4] = flush({ ...UNNUMBERED, nextHop6: '2001:db8::1' }, [['198.51.100.0/24', ann()]]);
    expect(u4?.attributes.mpReach).toMatchObject({ afi: 1, nextHop: '2001:db8::1', linkLocalNextHop: OURS });
  });

  it('keeps an IPv4 next hop when there is one, and exports no IPv4 without extended next hop', () => {
    const [withV4] = flush({ ...UNNUMBERED, nextHop4: '192.0.2.1' }, [['198.51.100.0/24', ann()]]);
    expect(withV4?.nlri).toEqual(['198.51.100.0/24']);
    expect(withV4?.attributes.nextHop).toBe('192.0.2.1');
    expect(withV4?.attributes.mpReach).toBeUndefined();
    expect(flush({ ...UNNUMBERED, ipv4NextHopIPv6: false }, [['198.51.100.0/24', ann()]])).toEqual([]);
  });

  it('withdraws IPv4 prefixes in the Withdrawn Routes field', () => {
    const rib = new AdjRibOut();
    rib.reset(UNNUMBERED);
    const a = ann();
    rib.flush(new Map([['198.51.100.0/24', a]]));
    const res = rib.flush(new Map(), new Map([['198.51.100.0/24', a]]));
    const [u] = res.messages.map((m) => decodeMessage(m) as UpdateMessage);
    expect(u?.withdrawn).toEqual(['198.51.100.0/24']);
  });
});

describe('BgpSpeaker.addPeer with interface', () => {
  it('scopes the link-local address with the interface, and checks it', async () => {
    const s = new BgpSpeaker({ asn: 64513, routerId: '192.0.2.1' });
    s.on('warning', () => {});
    try {
      const p = s.addPeer({ address: 'fe80::1', interface: 'lo', asn: 'external', passive: true });
      expect(p.address).toBe('fe80::1%lo');
      expect(s.getPeer('fe80::1%lo')).toBe(p);
      expect(() => s.addPeer({ address: 'fe80::1%lo', interface: 'lo', asn: 64512 })).toThrow(/already exists/);
      expect(() => s.addPeer({ address: '2001:db8::1', interface: 'lo', asn: 64512 })).toThrow(/link-local/);
      expect(() => s.addPeer({ address: 'fe80::2%eth1', interface: 'eth0', asn: 64512 })).toThrow(/scope/);
      expect(() => s.addPeer({ address: 'fe80::2', interface: 'a b', asn: 64512 })).toThrow(/device name/);
    } finally {
      await s.close();
    }
  });
});
