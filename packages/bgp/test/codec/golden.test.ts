import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type BgpMessage,
  type CodecOptions,
  decodeMessage,
  decodeShutdownCommunication,
  encodeMessage,
  MessageDecoder,
  type OpenMessage,
  openAsn,
  type UpdateMessage,
} from '../../src/internal.js';
import { hex, testEncoder, toHex } from './helpers.js';

// metallb.md §4.2: MetalLB's internal/bgp/native/messages_test.go and internal/bgp/testdata/open-{1..4}
describe('golden OPEN messages (MetalLB and routers)', () => {
  it('MetalLB native speaker OPEN: AS 65002, hold 90, id 185.236.240.39, MP 1/1 + 2/1 + 4-octet AS', () => {
    const b = hex('ff×16 0031 01 04 fdea 005a b9ecf027 14 02 12 0104 0001 0001 0104 0002 0001 4104 0000fdea');
    const m = decodeMessage(b);
    expect(m).toEqual({
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
    expect(toHex(testEncoder(m))).toBe(toHex(b));
  });

  it('Arista EOS OPEN: no 4-octet AS, MP 1/1, route refresh, graceful restart 180 s', () => {
    const b = hex('ff×16 002b 01 04 fde9 00b4 b9ecf040 0e 02 0c 0104 0001 0001 0200 4002 00b4');
    const m = decodeMessage(b) as OpenMessage;
    expect(m.myAsn).toBe(65001);
    expect(m.holdTime).toBe(180);
    expect(m.capabilities).toEqual([
      { type: 'multiprotocol', afi: 1, safi: 1 },
      { type: 'route-refresh' },
      { type: 'graceful-restart', restarting: false, notification: false, restartTime: 180, families: [] },
    ]);
    expect(openAsn(m)).toBe(65001);
    expect(toHex(testEncoder(m))).toBe(toHex(b));
  });

  it('open-1: AS 1, MP 1/1 + 1/4, RR, GR 300 s, AS4, add-path receive', () => {
    const b = hex(
      'ff×16 0041 0104 0001 00b4 0a010101 24 02 22 01040001000101040001000402004002012c41040000000145080001010100010401',
    );
    const m = decodeMessage(b) as OpenMessage;
    expect(m.bgpId).toBe('10.1.1.1');
    expect(m.capabilities).toContainEqual({
      type: 'add-path',
      families: [
        { afi: 1, safi: 1, sendReceive: 'receive' },
        { afi: 1, safi: 4, sendReceive: 'receive' },
      ],
    });
    expect(toHex(testEncoder(m))).toBe(toHex(b));
  });

  it('open-2: only the 4-octet AS capability', () => {
    const b = hex('ff×16 0025 0104 fc1f 0028 c0a81241 08 02 06 4104 0000fc1f');
    const m = decodeMessage(b) as OpenMessage;
    expect(m.capabilities).toEqual([{ type: 'four-octet-as', asn: 64543 }]);
    expect(toHex(testEncoder(m))).toBe(toHex(b));
  });

  it('open-3: MP, RR, GR, AS4 and enhanced route refresh (70)', () => {
    const b = hex('ff×16 0033 0104 fc1f 0028 c0a81045 16 02 14 0104000100010200400200004104 0000fc1f 4600');
    const m = decodeMessage(b) as OpenMessage;
    expect(m.capabilities.at(-1)).toEqual({ type: 'enhanced-route-refresh' });
    expect(toHex(testEncoder(m))).toBe(toHex(b));
  });

  it('open-4: capabilities split over four optional parameters, Cisco route refresh (128)', () => {
    const b = hex('ff×16 0035 0104 fc1f 00b4 c0a81001 18 0206 0104 0001 0001 0202 8000 0202 0200 0206 4104 0000fc1f');
    const m = decodeMessage(b) as OpenMessage;
    expect(m.capabilities[1]).toEqual({ type: 'route-refresh', cisco: true });
    expect(m.encoding).toEqual({ capabilityGroups: [1, 1, 1, 1] });
    expect(toHex(testEncoder(m))).toBe(toHex(b));
  });

  it('OPEN for AS 4200000000 carries AS_TRANS in the 2-octet field', () => {
    const b = hex('ff×16 0031 01 04 5ba0 005a 01020304 14 02 12 0104 0001 0001 0104 0002 0001 4104 fa56ea00');
    const m = decodeMessage(b) as OpenMessage;
    expect(m.myAsn).toBe(23456);
    expect(openAsn(m)).toBe(4200000000);
    expect(toHex(testEncoder(m))).toBe(toHex(b));
  });
});

// metallb.md §4.2: UPDATE and KEEPALIVE bytes derived from MetalLB's messages.go
describe('golden UPDATE and KEEPALIVE messages (MetalLB native speaker)', () => {
  const attrs = (asPath: number[]) => ({
    origin: 'igp' as const,
    asPath: [{ type: 'sequence' as const, asns: asPath }],
    nextHop: '192.168.123.10',
    communities: ['0:1234', '0:2345'],
  });
  const cases: [string, string, UpdateMessage | BgpMessage, CodecOptions][] = [
    [
      'eBGP, 2-octet AS peer',
      'ff×16 0038 02 0000 001d 40010100 4002040201fde8 400304c0a87b0a c00808000004d200000929 18ac1000',
      { type: 'update', withdrawn: [], attributes: attrs([65000]), nlri: ['172.16.0.0/24'] },
      { fourOctetAs: false },
    ],
    [
      'eBGP, 4-octet AS peer',
      'ff×16 003a 02 0000 001f 40010100 40020602010000fde8 400304c0a87b0a c00808000004d200000929 18ac1000',
      { type: 'update', withdrawn: [], attributes: attrs([65000]), nlri: ['172.16.0.0/24'] },
      {},
    ],
    [
      'iBGP with LOCAL_PREF',
      'ff×16 0031 02 0000 0015 40010100 400200 4003040a000001 40050400000064 20c0a80a05',
      {
        type: 'update',
        withdrawn: [],
        attributes: { origin: 'igp', asPath: [], nextHop: '10.0.0.1', localPref: 100 },
        nlri: ['192.168.10.5/32'],
      },
      {},
    ],
    [
      'withdrawal of two /32s',
      'ff×16 0021 02 000a 20c0a80a05 20c0a80a06 0000',
      { type: 'update', withdrawn: ['192.168.10.5/32', '192.168.10.6/32'], attributes: {}, nlri: [] },
      {},
    ],
    ['KEEPALIVE', 'ff×16 0013 04', { type: 'keepalive' }, {}],
  ];
  for (const [name, h, message, options] of cases) {
    it(name, () => {
      const b = hex(h);
      expect(decodeMessage(b, options)).toEqual(message);
      expect(toHex(testEncoder(message, options))).toBe(toHex(b));
    });
  }
});

interface Fixture {
  how: string;
  pair: { a: string; b: string; mode: string };
  messages: { from: string; to: string; session: string; hex: string }[];
}

const dir = new URL('../fixtures/captured/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f, JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Fixture] as const);

describe('messages captured from FRR, BIRD, GoBGP and ExaBGP (test/fixtures/captured)', () => {
  it('has fixtures from all four daemons', () => {
    const senders = new Set(fixtures.flatMap(([, f]) => f.messages.map((m) => m.from)));
    expect([...senders].sort()).toEqual(['bird', 'exabgp', 'frr', 'gobgp']);
  });

  for (const [file, fixture] of fixtures) {
    it(`${file}: every message decodes without malformation and re-encodes byte-identical`, () => {
      const seen = new Set<string>();
      for (const m of fixture.messages) {
        const bytes = hex(m.hex);
        // every session here negotiated 4-octet AS; add-path was not configured
        const options: CodecOptions = { fourOctetAs: true, extendedMessages: true };
        const decoded = decodeMessage(bytes, options);
        seen.add(decoded.type);
        if (decoded.type === 'update') expect(decoded.malformed, `${m.from}: ${m.hex}`).toBeUndefined();
        expect(toHex(encodeMessage(decoded, options)), `${m.from} ${decoded.type}`).toBe(m.hex);
        // and again through the stream decoder, one octet at a time
        const stream = new MessageDecoder(options);
        const out: BgpMessage[] = [];
        for (let i = 0; i < bytes.length; i++) out.push(...stream.feed(bytes.subarray(i, i + 1)));
        expect(out).toEqual([decoded]);
      }
      expect(seen.has('open') && seen.has('update') && seen.has('keepalive')).toBe(true);
    });
  }

  it('decodes the routes each daemon announced, with their communities and MED', () => {
    for (const [, fixture] of fixtures) {
      for (const m of fixture.messages) {
        const d = decodeMessage(hex(m.hex));
        if (d.type !== 'update' || (d.nlri.length === 0 && !d.attributes.mpReach?.nlri.length)) continue;
        const isA = m.from === fixture.pair.a;
        const asn = isA ? 64513 : fixture.pair.mode === 'ibgp' ? 64513 : 64512;
        const prefixes = [...d.nlri, ...(d.attributes.mpReach?.nlri ?? [])];
        expect(prefixes).toEqual([
          m.session === 'ipv4' ? `198.51.100.${isA ? 1 : 2}/32` : `2001:db8:100::${isA ? 1 : 2}/128`,
        ]);
        expect(d.attributes.communities).toEqual([`${asn}:${isA ? 100 : 200}`]);
        expect(d.attributes.med).toBe(isA ? 10 : 20);
        expect(d.attributes.origin).toBeDefined();
        if (fixture.pair.mode === 'ibgp') expect(d.attributes.localPref).toBeTypeOf('number');
        if (m.session === 'ipv6') expect(d.attributes.mpReach?.nextHop).toMatch(/^2001:db8:0:1::[12]$/);
        else expect(d.attributes.nextHop).toMatch(/^192\.0\.2\.[12]$/);
      }
    }
  });

  it('decodes the NOTIFICATIONs: Cease with RFC 9003 shutdown communications from FRR, BIRD and GoBGP', () => {
    const notes = fixtures.flatMap(([, f]) =>
      f.messages.flatMap((m) => {
        const d = decodeMessage(hex(m.hex));
        return d.type === 'notification' ? [{ from: m.from, n: d }] : [];
      }),
    );
    const withText = notes.filter(({ n }) => decodeShutdownCommunication(n) !== undefined);
    expect(new Set(withText.map((x) => x.from))).toEqual(new Set(['frr', 'bird', 'gobgp']));
    for (const { n } of withText) {
      expect([n.code, n.subcode]).toEqual([6, 2]);
      expect(decodeShutdownCommunication(n)).toBe('maintenance: ingot codec capture');
    }
    for (const { from, n } of notes) {
      if (from === 'exabgp')
        expect([n.code, n.subcode]).toEqual([1, 0]); // ExaBGP rejecting GoBGP's NOTIFICATION
      else expect(n.code).toBe(6);
    }
  });
});

describe('RFC 9072 extended optional parameters length', () => {
  it('is used when capabilities exceed 255 octets, one parameter per 255 octets, and round-trips', () => {
    const m: OpenMessage = {
      type: 'open',
      version: 4,
      myAsn: 64512,
      holdTime: 90,
      bgpId: '192.0.2.1',
      capabilities: Array.from({ length: 70 }, (_, i) => ({ type: 'multiprotocol' as const, afi: 1, safi: i + 1 })),
    };
    const bytes = testEncoder(m);
    // Non-Ext OP Len 255, Non-Ext OP Type 255, Extended Opt. Parm. Length 2 octets (RFC 9072 §2)
    expect([bytes[28], bytes[29]]).toEqual([255, 255]);
    expect((bytes[30]! << 8) | bytes[31]!).toBe(bytes.length - 32);
    // parameters of type 2 with 2-octet lengths, each at most 255 octets of capabilities (42 of 6 octets fit)
    expect([bytes[32], (bytes[33]! << 8) | bytes[34]!]).toEqual([2, 42 * 6]);
  });

  it('decodes the extended format when not needed, and re-encodes it byte-identical', () => {
    const b = hex('ff×16 0029 01 04 fc00 005a c0000201 ff ff 0009 02 0006 4104 0000fc00');
    const m = decodeMessage(b) as OpenMessage;
    expect(m.capabilities).toEqual([{ type: 'four-octet-as', asn: 64512 }]);
    expect(m.encoding).toEqual({ extendedParameters: true });
    expect(toHex(encodeMessage(m))).toBe(toHex(b));
  });

  it('rejects an extended length that disagrees with the message (OPEN error, subcode 0)', () => {
    const b = hex('ff×16 0029 01 04 fc00 005a c0000201 ff ff 000a 02 0006 4104 0000fc00');
    expect(() => decodeMessage(b)).toThrowError(expect.objectContaining({ code: 2, subcode: 0 }));
  });
});
