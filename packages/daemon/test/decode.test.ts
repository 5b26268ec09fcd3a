import {
  BROADCAST_MAC,
  ETHERTYPE_ARP,
  ETHERTYPE_VLAN,
  encodeArp,
  encodeArpFrame,
  encodeEthernet,
  encodeNdpFrame,
  ZERO_MAC,
} from '@ingot/arp';
import { encodeMessage, notifications, packUpdates } from '@ingot/bgp/codec';
import { describe, expect, it } from 'vitest';
import { decodeCommand, notificationName, parseHex, renderValue } from '../src/commands/decode.js';

const FF = 'ff'.repeat(16);
// Golden bytes from ../shared/reference/metallb.md §4.2 (MetalLB's messages_test.go and messages.go)
const METALLB_OPEN = `${FF} 0031 01 04 fdea 005a b9ecf027 14 02 12 0104 0001 0001 0104 0002 0001 4104 0000fdea`;
const ARISTA_OPEN = `${FF} 002b 01 04 fde9 00b4 b9ecf040 0e 02 0c 0104 0001 0001 0200 4002 00b4`;
const OPEN_4 = `${FF} 0035 0104 fc1f 00b4 c0a81001 18 0206 0104 0001 0001 0202 8000 0202 0200 0206 4104 0000fc1f`;
const UPDATE_AS2 = `${FF} 0038 02 0000 001d 40010100 4002040201fde8 400304c0a87b0a c00808000004d200000929 18ac1000`;
const UPDATE_AS4 = `${FF} 003a 02 0000 001f 40010100 40020602010000fde8 400304c0a87b0a c00808000004d200000929 18ac1000`;
const UPDATE_IBGP = `${FF} 0031 02 0000 0015 40010100 400200 4003040a000001 40050400000064 20c0a80a05`;
const WITHDRAW = `${FF} 0021 02 000a 20c0a80a05 20c0a80a06 0000`;
const KEEPALIVE = `${FF} 0013 04`;

interface Run {
  code: number;
  out: string;
  err: string;
}

async function decode(args: string[], stdin = ''): Promise<Run> {
  let out = '';
  let err = '';
  const code = await decodeCommand(args, {
    stdin: async () => stdin,
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
  });
  return { code, out, err };
}

/** The JSON blocks of the output, one per `# …` heading, parsed. */
function blocks(out: string): { heading: string; value: Record<string, unknown> }[] {
  const parts = out.split(/^(# .*)$/m).slice(1);
  const result: { heading: string; value: Record<string, unknown> }[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    result.push({ heading: parts[i]!, value: JSON.parse(parts[i + 1]!) as Record<string, unknown> });
  }
  return result;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

describe('parseHex', () => {
  it('accepts spaces, newlines, colons, commas and 0x prefixes', () => {
    expect([...parseHex('ff ff\n0a:0B,0x01 0X02\t0x0304')]).toEqual([255, 255, 10, 11, 1, 2, 3, 4]);
  });

  it('drops the line offsets of tcpdump -xx output', () => {
    const dump = '\t0x0000:  ffff ffff ffff ffff ffff ffff ffff ffff\n\t0x0010:  0013 04\n';
    expect(parseHex(dump)).toEqual(Uint8Array.from([...new Array(16).fill(0xff), 0x00, 0x13, 0x04]));
    // colon-separated bytes with 0x prefixes are not offsets
    expect([...parseHex('0xffff:0x0013')]).toEqual([0xff, 0xff, 0x00, 0x13]);
  });

  it('rejects other characters and odd digit counts', () => {
    expect(() => parseHex('ff gg')).toThrow(/unexpected character "g" in "gg"/);
    expect(() => parseHex('fff')).toThrow(/odd number of hex digits \(3\)/);
    expect(() => parseHex(' \n ')).toThrow(/no hex digits/);
    expect(() => parseHex('0x')).toThrow(/no hex digits/);
  });
});

describe('renderValue', () => {
  it('is valid JSON with bytes as hex and bigints exact', () => {
    const text = renderValue({ a: Uint8Array.of(1, 0xab), b: 2n ** 70n, c: undefined, d: [1, 'x'], e: {} });
    expect(text).toContain('1180591620717411303424');
    expect(JSON.parse(text)).toEqual({ a: '01ab', b: 2 ** 70, d: [1, 'x'], e: {} });
  });
});

describe('notificationName', () => {
  it('names codes and subcodes as IANA does', () => {
    expect(notificationName(1, 2)).toBe('Message Header Error / Bad Message Length');
    expect(notificationName(6, 2)).toBe('Cease / Administrative Shutdown');
    expect(notificationName(3, 11)).toBe('UPDATE Message Error / Malformed AS_PATH');
    expect(notificationName(6, 42)).toBe('Cease / unknown subcode 42');
    expect(notificationName(9, 1)).toBe('unknown error code 9 / subcode 1');
  });
});

describe('ingot decode bgp', () => {
  it("decodes MetalLB's own OPEN (golden bytes)", async () => {
    const r = await decode(['bgp', METALLB_OPEN]);
    expect(r).toMatchObject({ code: 0, err: '' });
    const [open] = blocks(r.out);
    expect(open!.heading).toBe('# message 1 at offset 0: OPEN, 49 octets');
    expect(open!.value).toEqual({
      type: 'open',
      version: 4,
      myAsn: 65002,
      holdTime: 90,
      bgpId: '185.236.240.39',
      capabilities: [
        { type: 'multiprotocol', afi: 1, safi: 1 },
        { type: 'multiprotocol', afi: 2, safi: 1 },
        { type: 'four-octet-as', asn: 65002 },
      ],
    });
  });

  it('decodes an OPEN with capabilities spread over four optional parameters', async () => {
    const r = await decode(['bgp', OPEN_4]);
    expect(r.code).toBe(0);
    const open = blocks(r.out)[0]!.value;
    expect(open.myAsn).toBe(64543);
    expect(open.bgpId).toBe('192.168.16.1');
    expect(open.capabilities).toEqual([
      { type: 'multiprotocol', afi: 1, safi: 1 },
      { type: 'route-refresh', cisco: true },
      { type: 'route-refresh' },
      { type: 'four-octet-as', asn: 64543 },
    ]);
  });

  it('reads hex split over arguments, with colons and 0x prefixes, and from stdin with -', async () => {
    const colons = KEEPALIVE.replace(/ /g, '')
      .match(/../g)!
      .map((b) => `0x${b}`)
      .join(':');
    const split = await decode(['bgp', ...METALLB_OPEN.split(' ')]);
    const prefixed = await decode(['bgp', colons]);
    const stdin = await decode(['bgp', '-'], `${METALLB_OPEN}\n${KEEPALIVE}\n`);
    expect(split.code).toBe(0);
    expect(blocks(split.out)[0]!.value.bgpId).toBe('185.236.240.39');
    expect(blocks(prefixed.out)).toEqual([
      { heading: '# message 1 at offset 0: KEEPALIVE, 19 octets', value: { type: 'keepalive' } },
    ]);
    expect(blocks(stdin.out).map((b) => b.heading)).toEqual([
      '# message 1 at offset 0: OPEN, 49 octets',
      '# message 2 at offset 49: KEEPALIVE, 19 octets',
    ]);
  });

  it('decodes concatenated messages; an OPEN without 4-octet AS makes UPDATEs 2-octet', async () => {
    const r = await decode(['bgp', `${ARISTA_OPEN}${UPDATE_AS2}${KEEPALIVE}`]);
    expect(r).toMatchObject({ code: 0, err: '' });
    const [open, update, keepalive] = blocks(r.out);
    expect(open!.value.myAsn).toBe(65001);
    expect(update!.heading).toBe('# message 2 at offset 43: UPDATE, 56 octets');
    expect(update!.value).toEqual({
      type: 'update',
      withdrawn: [],
      attributes: {
        origin: 'igp',
        asPath: [{ type: 'sequence', asns: [65000] }],
        nextHop: '192.168.123.10',
        communities: ['0:1234', '0:2345'],
      },
      nlri: ['172.16.0.0/24'],
    });
    expect(keepalive!.heading).toBe('# message 3 at offset 99: KEEPALIVE, 19 octets');
  });

  it('guesses 2-octet AS for a lone UPDATE whose AS_PATH is malformed as 4-octet, and says so', async () => {
    const r = await decode(['bgp', UPDATE_AS2]);
    expect(r.code).toBe(0);
    const [update] = blocks(r.out);
    expect(update!.heading).toMatch(/\(2-octet AS numbers: read as 4-octet its AS_PATH is malformed/);
    expect(update!.value.attributes).toMatchObject({ asPath: [{ type: 'sequence', asns: [65000] }] });
    expect(update!.value.malformed).toBeUndefined();
  });

  it('--as4 forces 4-octet AS numbers: the 2-octet UPDATE is then treat-as-withdraw, with names', async () => {
    const r = await decode(['bgp', '--as4', UPDATE_AS2]);
    expect(r.code).toBe(0);
    const update = blocks(r.out)[0]!.value as { malformed: { action: string; errors: Record<string, unknown>[] } };
    expect(update.malformed.action).toBe('treat-as-withdraw');
    expect(update.malformed.errors[0]).toMatchObject({
      attributeType: 2,
      code: 3,
      subcode: 11,
      error: 'UPDATE Message Error / Malformed AS_PATH',
    });
  });

  it('--no-as4 / --as4 decode the UPDATEs MetalLB sends to 2- and 4-octet peers', async () => {
    const as2 = blocks((await decode(['bgp', '--no-as4', UPDATE_AS2])).out)[0]!;
    const as4 = blocks((await decode(['bgp', '--as4', UPDATE_AS4])).out)[0]!;
    expect(as2.heading).toBe('# message 1 at offset 0: UPDATE, 56 octets');
    expect(as4.heading).toBe('# message 1 at offset 0: UPDATE, 58 octets');
    expect(as2.value).toEqual(as4.value);
    const wrong = blocks((await decode(['bgp', '--no-as4', UPDATE_AS4])).out)[0]!.value;
    expect(wrong.malformed).toMatchObject({ action: 'treat-as-withdraw' });
  });

  it('decodes an iBGP UPDATE with LOCAL_PREF and a withdrawal', async () => {
    const r = await decode(['bgp', UPDATE_IBGP, WITHDRAW]);
    expect(r.code).toBe(0);
    const [ibgp, withdraw] = blocks(r.out);
    expect(ibgp!.value).toEqual({
      type: 'update',
      withdrawn: [],
      attributes: { origin: 'igp', asPath: [], nextHop: '10.0.0.1', localPref: 100 },
      nlri: ['192.168.10.5/32'],
    });
    expect(withdraw!.value).toEqual({
      type: 'update',
      withdrawn: ['192.168.10.5/32', '192.168.10.6/32'],
      attributes: {},
      nlri: [],
    });
  });

  it('--add-path decodes path identifiers (IPv4 NLRI and IPv6 MP_REACH_NLRI)', async () => {
    const attributes = { origin: 'igp' as const, asPath: [], nextHop: '192.0.2.1' };
    const updates = packUpdates(attributes, ['198.51.100.10/32', '2001:db8::10/128'], {
      pathId: 7,
      ipv6NextHop: '2001:db8::1',
      addPath: { ipv4Unicast: true, ipv6Unicast: true },
    });
    const bytes = updates.map(hex).join('');
    const r = await decode(['bgp', '--add-path', bytes]);
    expect(r).toMatchObject({ code: 0, err: '' });
    const [v4, v6] = blocks(r.out).map((b) => b.value) as {
      nlri: string[];
      nlriPathIds?: number[];
      attributes: { mpReach?: { nlri: string[]; pathIds: number[] } };
    }[];
    expect(v4!.nlri).toEqual(['198.51.100.10/32']);
    expect(v4!.nlriPathIds).toEqual([7]);
    expect(v6!.attributes.mpReach!.nlri).toEqual(['2001:db8::10/128']);
    expect(v6!.attributes.mpReach!.pathIds).toEqual([7]);
    const v4only = await decode(['bgp', '--add-path=ipv4', hex(updates[0]!)]);
    expect(blocks(v4only.out)[0]!.value.nlriPathIds).toEqual([7]);
    // without the option the path identifier reads as prefix octets: that NLRI does not decode
    const without = await decode(['bgp', hex(updates[0]!)]);
    expect(without.code).toBe(1);
    expect(without.err).toMatch(/BGP error 3\/\d+ \(UPDATE Message Error \/ /);
  });

  it('names NOTIFICATION codes and shows an RFC 9003 shutdown communication', async () => {
    const bytes = encodeMessage(notifications.administrativeShutdown('maintenance window'));
    const r = await decode(['bgp', hex(bytes)]);
    expect(r.code).toBe(0);
    expect(blocks(r.out)[0]!.value).toMatchObject({
      type: 'notification',
      code: 6,
      subcode: 2,
      error: 'Cease / Administrative Shutdown',
      shutdownCommunication: 'maintenance window',
    });
  });

  it('decodes an extended message (RFC 8654) only with --extended', async () => {
    const prefixes = Array.from({ length: 1200 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    const attributes = { origin: 'igp' as const, asPath: [], nextHop: '192.0.2.1' };
    const update = encodeMessage(
      { type: 'update', withdrawn: [], attributes, nlri: prefixes },
      { extendedMessages: true },
    );
    expect(update.length).toBeGreaterThan(4096);
    const plain = await decode(['bgp', hex(update)]);
    expect(plain.code).toBe(1);
    expect(plain.err).toMatch(/BGP error 1\/2 \(Message Header Error \/ Bad Message Length\)/);
    const extended = await decode(['bgp', '--extended', hex(update)]);
    expect(extended.code).toBe(0);
    expect(blocks(extended.out)[0]!.value.nlri).toEqual(prefixes);
  });

  it('--json prints one JSON array of { offset, length, note?, message }', async () => {
    const r = await decode(['bgp', '--json', `${UPDATE_AS2} ${KEEPALIVE}`]);
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.out) as { offset: number; length: number; note?: string; message: unknown }[];
    expect(parsed).toHaveLength(2);
    expect(parsed[0]).toMatchObject({ offset: 0, length: 56, note: expect.stringMatching(/^2-octet AS/) });
    expect(parsed[1]).toEqual({ offset: 56, length: 19, message: { type: 'keepalive' } });
    const broken = await decode(['bgp', '--json', `${KEEPALIVE} ${FF} 0013 09`]);
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.out)).toEqual([{ offset: 0, length: 19, message: { type: 'keepalive' } }]);
    expect(broken.err).toMatch(/^error: message 2 at offset 19: /);
  });

  describe('malformed input: the error with its NOTIFICATION names, exit 1', () => {
    const cases: [string, string, RegExp][] = [
      [
        'marker not all ones',
        `${'ff'.repeat(15)}fe 0013 04`,
        /BGP error 1\/1 \(Message Header Error \/ Connection Not Synchronized\)/,
      ],
      ['unknown type 9', `${FF} 0013 09`, /BGP error 1\/3 \(Message Header Error \/ Bad Message Type\).*data 09/],
      [
        'truncated (length beyond the input)',
        METALLB_OPEN.slice(0, -8),
        /BGP error 1\/2 \(Message Header Error \/ Bad Message Length\)/,
      ],
      [
        'KEEPALIVE of 20 octets',
        `${FF} 0014 04 00`,
        /BGP error 1\/2 \(Message Header Error \/ Bad Message Length\).*data 0014/,
      ],
      [
        'OPEN version 3',
        METALLB_OPEN.replace('01 04 fdea', '01 03 fdea'),
        /BGP error 2\/1 \(OPEN Message Error \/ Unsupported Version Number\).*data 0004/,
      ],
      [
        'OPEN hold time 2',
        METALLB_OPEN.replace('fdea 005a', 'fdea 0002'),
        /BGP error 2\/6 \(OPEN Message Error \/ Unacceptable Hold Time\)/,
      ],
      [
        'UPDATE withdrawn length past the end',
        `${FF} 0017 02 00ff 0000`,
        /BGP error 3\/1 \(UPDATE Message Error \/ Malformed Attribute List\)/,
      ],
    ];
    for (const [name, input, error] of cases) {
      it(name, async () => {
        const r = await decode(['bgp', input]);
        expect(r.code).toBe(1);
        expect(r.out).toBe('');
        expect(r.err).toMatch(/^error: message 1 at offset 0: /);
        expect(r.err).toMatch(error);
      });
    }

    it('prints the messages before the bad one, then the error with its offset', async () => {
      const r = await decode(['bgp', `${KEEPALIVE} ${FF} 0013 09`]);
      expect(r.code).toBe(1);
      expect(blocks(r.out)).toHaveLength(1);
      expect(r.err).toMatch(/^error: message 2 at offset 19: BGP error 1\/3 /);
    });

    it('a trailing partial header', async () => {
      const r = await decode(['bgp', `${KEEPALIVE} ffff`]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/message 2 at offset 19: BGP error 1\/2 /);
    });
  });
});

describe('ingot decode arp / ndp', () => {
  const request = encodeArpFrame(
    { destination: BROADCAST_MAC, source: '02:00:00:00:00:01' },
    {
      operation: 1,
      senderMac: '02:00:00:00:00:01',
      senderIp: '192.0.2.1',
      targetMac: ZERO_MAC,
      targetIp: '192.0.2.10',
    },
  );
  const solicitation = encodeNdpFrame(
    { destination: '33:33:ff:00:00:10', source: '02:00:00:00:00:01' },
    {
      source: 'fe80::1',
      destination: 'ff02::1:ff00:10',
      message: {
        type: 'neighbor-solicitation',
        target: '2001:db8::10',
        options: [{ type: 'source-lla', mac: '02:00:00:00:00:01' }],
      },
    },
  );

  it('decodes an ARP request frame', async () => {
    const r = await decode(['arp', hex(request)]);
    expect(r).toMatchObject({ code: 0, err: '' });
    const [frame] = blocks(r.out);
    expect(frame!.heading).toBe('# 42 octets: ARP');
    expect(frame!.value).toEqual({
      ethernet: { destination: 'ff:ff:ff:ff:ff:ff', source: '02:00:00:00:00:01', etherType: '0x0806 (ARP)' },
      arp: {
        operation: '1 (request)',
        senderMac: '02:00:00:00:00:01',
        senderIp: '192.0.2.1',
        targetMac: '00:00:00:00:00:00',
        targetIp: '192.0.2.10',
      },
    });
  });

  it('shows the padding of a minimum-size frame and 802.1Q tags', async () => {
    const padded = new Uint8Array(60);
    padded.set(request);
    const tagged = encodeEthernet({
      destination: BROADCAST_MAC,
      source: '02:00:00:00:00:01',
      vlans: [{ tpid: ETHERTYPE_VLAN, pcp: 3, dei: false, id: 42 }],
      etherType: ETHERTYPE_ARP,
      payload: encodeArp({
        operation: 2,
        senderMac: '02:00:00:00:00:aa',
        senderIp: '192.0.2.10',
        targetMac: '02:00:00:00:00:01',
        targetIp: '192.0.2.1',
      }),
    });
    const p = blocks((await decode(['arp', hex(padded)])).out)[0]!.value;
    expect(p.padding).toBe('00'.repeat(18));
    const t = blocks((await decode(['arp', hex(tagged)])).out)[0]!.value as {
      ethernet: { vlans: unknown[] };
      arp: { operation: string };
    };
    expect(t.ethernet.vlans).toEqual([{ tpid: 0x8100, pcp: 3, dei: false, id: 42 }]);
    expect(t.arp.operation).toBe('2 (reply)');
  });

  it('--json prints only the frame as JSON', async () => {
    const r = await decode(['arp', '--json', hex(request)]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ arp: { targetIp: '192.0.2.10' } });
  });

  it('decodes an IPv6 Neighbor Solicitation frame', async () => {
    const r = await decode(['ndp', hex(solicitation)]);
    expect(r.code).toBe(0);
    const [frame] = blocks(r.out);
    expect(frame!.heading).toBe(`# ${solicitation.length} octets: IPv6 NDP`);
    expect(frame!.value).toMatchObject({
      ethernet: { destination: '33:33:ff:00:00:10', etherType: '0x86dd (IPv6)' },
      ndp: {
        source: 'fe80::1',
        destination: 'ff02::1:ff00:10',
        hopLimit: 255,
        message: {
          type: 'neighbor-solicitation',
          target: '2001:db8::10',
          options: [{ type: 'source-lla', mac: '02:00:00:00:00:01' }],
        },
      },
    });
  });

  it('decodes a Neighbor Advertisement with a nonce option as hex', async () => {
    const na = encodeNdpFrame(
      { destination: '33:33:00:00:00:01', source: '02:00:00:00:00:aa' },
      {
        source: 'fe80::aa',
        destination: 'ff02::1',
        message: {
          type: 'neighbor-advertisement',
          router: false,
          solicited: false,
          override: true,
          target: '2001:db8::10',
          options: [
            { type: 'target-lla', mac: '02:00:00:00:00:aa' },
            { type: 'nonce', nonce: Uint8Array.of(1, 2, 3, 4, 5, 6) },
          ],
        },
      },
    );
    const value = blocks((await decode(['ndp', hex(na)])).out)[0]!.value as {
      ndp: { message: { override: boolean; options: unknown[] } };
    };
    expect(value.ndp.message.override).toBe(true);
    expect(value.ndp.message.options).toEqual([
      { type: 'target-lla', mac: '02:00:00:00:00:aa' },
      { type: 'nonce', nonce: '010203040506' },
    ]);
  });

  describe('malformed frames: the codec error with its code, exit 1', () => {
    const badChecksum = solicitation.slice();
    badChecksum[solicitation.length - 1]! ^= 0xff;
    const badVersion = solicitation.slice();
    badVersion[14] = 0x40;
    const ipv4 = request.slice();
    ipv4[12] = 0x08;
    ipv4[13] = 0x00;
    const cases: [string, 'arp' | 'ndp', Uint8Array, RegExp][] = [
      ['truncated Ethernet header', 'arp', request.subarray(0, 10), /^error: ethernet\/truncated at byte 0: /],
      ['truncated ARP body', 'arp', request.subarray(0, 30), /^error: arp\/truncated at byte \d+: /],
      ['IPv4 EtherType', 'arp', ipv4, /^error: ethernet\/unsupported-ethertype at byte 12: .*0x0800/],
      ['bad ICMPv6 checksum', 'ndp', badChecksum, /^error: icmpv6\/bad-checksum/],
      ['IPv4 version in the IPv6 header', 'ndp', badVersion, /^error: ipv6\/bad-version at byte 0: /],
    ];
    for (const [name, protocol, bytes, error] of cases) {
      it(name, async () => {
        const r = await decode([protocol, hex(bytes)]);
        expect(r.code).toBe(1);
        expect(r.out).toBe('');
        expect(r.err).toMatch(error);
      });
    }

    it('an NDP frame given to decode arp (and the reverse) names the right command', async () => {
      const a = await decode(['arp', hex(solicitation)]);
      expect(a.code).toBe(1);
      expect(a.err).toMatch(/carries IPv6 NDP, not ARP \(use `ingot decode ndp`\)/);
      const n = await decode(['ndp', hex(request)]);
      expect(n.code).toBe(1);
      expect(n.err).toMatch(/carries ARP, not IPv6 NDP \(use `ingot decode arp`\)/);
    });
  });
});

describe('ingot decode: usage', () => {
  it('prints usage on --help (exit 0) and without arguments (exit 2)', async () => {
    const help = await decode(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^usage: ingot decode bgp\|arp\|ndp/);
    const none = await decode([]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^usage: /);
  });

  it.each([
    [['ospf', 'ff'], /unknown protocol "ospf"/],
    [['bgp'], /missing HEX/],
    [['bgp', '--bogus', 'ff'], /unknown option --bogus/],
    [['bgp', '--add-path=ipv5', 'ff'], /--add-path: unknown family "ipv5"/],
    [['arp', '--as4', 'ff'], /unknown option --as4 for arp/],
    [['bgp', '-', 'ff'], /cannot be combined/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const r = await decode(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('invalid hex is a decode error (exit 1)', async () => {
    const r = await decode(['bgp', 'ffzz']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: invalid hex: unexpected character "z" in "ffzz"\n');
  });
});
