import fc from 'fast-check';
import type {
  AsPathSegment,
  BgpMessage,
  Capability,
  CodecOptions,
  KeepaliveMessage,
  MpReachNlri,
  MpUnreachNlri,
  NotificationMessage,
  OpenMessage,
  PathAttributes,
  RouteRefreshMessage,
  UpdateMessage,
} from '../../src/internal.js';

/** A canonical IPv4 prefix string (host bits zero), built without the codec. */
export const ipv4Prefix = fc
  .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
  .map(([ip, len]) => {
    const masked = len === 0 ? 0 : (ip & (0xffffffff << (32 - len))) >>> 0;
    return `${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}/${len}`;
  });

/** An IPv4 address usable as a NEXT_HOP (a host address). */
export const hostIPv4 = fc
  .tuple(
    fc.integer({ min: 1, max: 223 }).filter((x) => x !== 127),
    fc.integer({ min: 0, max: 0xffffff }),
  )
  .map(([a, rest]) => `${a}.${rest >>> 16}.${(rest >>> 8) & 255}.${rest & 255}`);

/** Any dotted quad except 0.0.0.0. */
export const ipv4 = fc
  .integer({ min: 1, max: 0xffffffff })
  .map((ip) => `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`);

/**
 * RFC 5952 canonical text of an IPv6 address by Node's WHATWG URL parser (an independent oracle), with an IPv4-mapped
 * address (::ffff:0:0/96) printed dotted as RFC 5952 §5 and Go's netip do (@ingot/net's policy); WHATWG prints it in hex.
 */
export function canonicalIpv6Text(text: string): string {
  const whatwg = new URL(`http://[${text}]`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(whatwg);
  if (!mapped) return whatwg;
  const [hi, lo] = [Number.parseInt(mapped[1]!, 16), Number.parseInt(mapped[2]!, 16)];
  return `::ffff:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** An IPv6 address in canonical form ({@link canonicalIpv6Text}). */
export const ipv6 = fc
  .array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
  .map((groups) => canonicalIpv6Text(groups.map((g) => g.toString(16)).join(':')));

/** A canonical IPv6 prefix string. */
export const ipv6Prefix = fc
  .tuple(
    fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }),
    fc.integer({ min: 0, max: 128 }),
  )
  .map(([groups, len]) => {
    const masked = groups.map((g, i) => {
      const bits = Math.max(0, Math.min(16, len - 16 * i));
      return bits === 0 ? 0 : g & ((0xffff << (16 - bits)) & 0xffff);
    });
    return `${canonicalIpv6Text(masked.map((g) => g.toString(16)).join(':'))}/${len}`;
  });

const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const afiSafi = fc.record({ afi: u16, safi: u8 });
const KNOWN_CAPABILITY_CODES = new Set([1, 2, 5, 6, 64, 65, 69, 70, 73, 128]);
const text = fc.string({ unit: 'grapheme-ascii', maxLength: 20 });

export const capability: fc.Arbitrary<Capability> = fc.oneof(
  afiSafi.map((f) => ({ type: 'multiprotocol' as const, ...f })),
  fc.constant({ type: 'route-refresh' as const }),
  fc.constant({ type: 'route-refresh' as const, cisco: true }),
  fc.record({
    type: fc.constant('extended-next-hop' as const),
    families: fc.array(fc.record({ afi: u16, safi: u16, nextHopAfi: u16 }), { minLength: 1, maxLength: 4 }),
  }),
  fc.constant({ type: 'extended-message' as const }),
  fc.constant({ type: 'enhanced-route-refresh' as const }),
  fc.integer({ min: 1, max: 0xffffffff }).map((asn) => ({ type: 'four-octet-as' as const, asn })),
  fc.record({
    type: fc.constant('graceful-restart' as const),
    restarting: fc.boolean(),
    notification: fc.boolean(),
    restartTime: fc.integer({ min: 0, max: 4095 }),
    families: fc.array(fc.record({ afi: u16, safi: u8, forwardingPreserved: fc.boolean() }), { maxLength: 4 }),
  }),
  fc.record({
    type: fc.constant('add-path' as const),
    families: fc.array(
      fc.record({
        afi: u16,
        safi: u8,
        sendReceive: fc.constantFrom('receive' as const, 'send' as const, 'both' as const),
      }),
      { maxLength: 4 },
    ),
  }),
  fc.record({ type: fc.constant('fqdn' as const), hostname: text, domainName: text }),
  fc.record({
    type: fc.constant('unknown' as const),
    code: u8.filter((c) => !KNOWN_CAPABILITY_CODES.has(c)),
    value: bytes(16),
  }),
);

export const open: fc.Arbitrary<OpenMessage> = fc.record({
  type: fc.constant('open' as const),
  version: fc.constant(4),
  myAsn: fc.integer({ min: 1, max: 0xffff }),
  holdTime: fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })),
  bgpId: ipv4,
  capabilities: fc.array(capability, { maxLength: 12 }),
});

const segment = (four: boolean, confed = true): fc.Arbitrary<AsPathSegment> =>
  fc.record({
    type: confed
      ? fc.constantFrom('sequence' as const, 'set' as const, 'confed-sequence' as const, 'confed-set' as const)
      : fc.constantFrom('sequence' as const, 'set' as const),
    asns: fc.array(four ? u32 : u16, { minLength: 1, maxLength: 8 }),
  });

const community = fc.tuple(u16, u16).map(([a, b]) => `${a}:${b}`);
const largeCommunity = fc.tuple(u32, u32, u32).map(([a, b, c]) => `${a}:${b}:${c}`);
const extendedCommunity = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.from(b).toString('hex'));
const KNOWN_ATTRIBUTES = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32]);

/** Prefixes of a family with their path identifiers when add-path is on. */
function withIds(prefix: fc.Arbitrary<string>, addPath: boolean, max: number) {
  return fc.array(fc.tuple(prefix, u32), { maxLength: max }).map((list) => ({
    prefixes: list.map((x) => x[0]),
    ids: addPath ? list.map((x) => x[1]) : undefined,
  }));
}

function mpReach(options: CodecOptions): fc.Arbitrary<MpReachNlri> {
  const v4 = fc
    .tuple(fc.constantFrom(1, 2), hostIPv4, withIds(ipv4Prefix, options.addPath?.ipv4Unicast === true, 20))
    .map(([safi, nextHop, n]) => {
      const m: MpReachNlri = { afi: 1, safi, nextHop, nlri: n.prefixes };
      if (safi === 1 && n.ids) m.pathIds = n.ids;
      return m;
    });
  const v6 = fc
    .tuple(
      fc.constantFrom(1, 2),
      ipv6,
      fc.option(ipv6, { nil: undefined }),
      withIds(ipv6Prefix, options.addPath?.ipv6Unicast === true, 20),
    )
    .map(([safi, nextHop, ll, n]) => {
      const m: MpReachNlri = { afi: 2, safi, nextHop, nlri: n.prefixes };
      if (ll !== undefined) m.linkLocalNextHop = ll;
      if (safi === 1 && n.ids) m.pathIds = n.ids;
      return m;
    });
  const raw = fc
    .record({ nextHop: bytes(32), nlri: bytes(40) })
    .map((r): MpReachNlri => ({ afi: 25, safi: 70, nextHop: '', nlri: [], raw: r }));
  return fc.oneof(v4, v6, raw);
}

function mpUnreach(options: CodecOptions): fc.Arbitrary<MpUnreachNlri> {
  const fam = (afi: number, prefix: fc.Arbitrary<string>, addPath: boolean) =>
    fc.tuple(fc.constantFrom(1, 2), withIds(prefix, addPath, 20)).map(([safi, n]) => {
      const m: MpUnreachNlri = { afi, safi, withdrawn: n.prefixes };
      if (safi === 1 && n.ids) m.pathIds = n.ids;
      return m;
    });
  return fc.oneof(
    fam(1, ipv4Prefix, options.addPath?.ipv4Unicast === true),
    fam(2, ipv6Prefix, options.addPath?.ipv6Unicast === true),
    bytes(40).map((raw): MpUnreachNlri => ({ afi: 25, safi: 70, withdrawn: [], raw })),
  );
}

function attributes(options: CodecOptions): fc.Arbitrary<PathAttributes> {
  const four = options.fourOctetAs !== false;
  return fc
    .record(
      {
        origin: fc.constantFrom('igp' as const, 'egp' as const, 'incomplete' as const),
        asPath: fc.array(segment(four), { maxLength: 4 }),
        nextHop: hostIPv4,
        med: u32,
        localPref: u32,
        atomicAggregate: fc.constant(true),
        aggregator: fc.record({ asn: four ? u32 : u16, address: ipv4 }),
        communities: fc.array(community, { minLength: 1, maxLength: 10 }),
        originatorId: ipv4,
        clusterList: fc.array(ipv4, { minLength: 1, maxLength: 4 }),
        mpReach: mpReach(options),
        mpUnreach: mpUnreach(options),
        extendedCommunities: fc.array(extendedCommunity, { minLength: 1, maxLength: 4 }),
        as4Path: four ? fc.constant(undefined) : fc.array(segment(true, false), { maxLength: 3 }),
        as4Aggregator: four ? fc.constant(undefined) : fc.record({ asn: u32, address: ipv4 }),
        largeCommunities: fc.array(largeCommunity, { minLength: 1, maxLength: 4 }),
        unknown: fc.uniqueArray(
          fc.record({
            flags: fc.constantFrom(0x80, 0xc0, 0xe0),
            type: u8.filter((t) => !KNOWN_ATTRIBUTES.has(t)),
            value: bytes(24),
          }),
          { minLength: 1, maxLength: 3, selector: (u) => u.type },
        ),
      },
      { requiredKeys: [] },
    )
    .map((a) => {
      const out = { ...a } as PathAttributes;
      for (const k of Object.keys(out) as (keyof PathAttributes)[]) if (out[k] === undefined) delete out[k];
      // unknown attributes come back in canonical (ascending type) order
      if (out.unknown) out.unknown = [...out.unknown].sort((x, y) => x.type - y.type);
      return out;
    });
}

/** A well-formed UPDATE for `options` (mandatory attributes present whenever it carries NLRI). */
export function update(options: CodecOptions): fc.Arbitrary<UpdateMessage> {
  const addPath = options.addPath?.ipv4Unicast === true;
  return fc
    .tuple(withIds(ipv4Prefix, addPath, 30), attributes(options), withIds(ipv4Prefix, addPath, 30), origin3)
    .map(([w, a, n, [origin, asPath, nextHop]]) => {
      const attrs = { ...a };
      const reach =
        n.prefixes.length > 0 ||
        (attrs.mpReach !== undefined && (attrs.mpReach.nlri.length > 0 || (attrs.mpReach.raw?.nlri.length ?? 0) > 0));
      if (reach) {
        attrs.origin ??= origin;
        attrs.asPath ??= asPath;
      }
      if (n.prefixes.length > 0) attrs.nextHop ??= nextHop;
      const m: UpdateMessage = { type: 'update', withdrawn: w.prefixes, attributes: attrs, nlri: n.prefixes };
      if (w.ids) m.withdrawnPathIds = w.ids;
      if (n.ids) m.nlriPathIds = n.ids;
      return m;
    });
}

const origin3 = fc.tuple(
  fc.constantFrom('igp' as const, 'egp' as const),
  fc.array(segment(false), { maxLength: 2 }),
  hostIPv4,
);

export const notification: fc.Arbitrary<NotificationMessage> = fc.record({
  type: fc.constant('notification' as const),
  code: u8,
  subcode: u8,
  data: bytes(64),
});

export const keepalive: fc.Arbitrary<KeepaliveMessage> = fc.constant({ type: 'keepalive' as const });

export const routeRefresh: fc.Arbitrary<RouteRefreshMessage> = fc.record({
  type: fc.constant('route-refresh' as const),
  afi: u16,
  subtype: u8,
  safi: u8,
});

/** Session options: 4-octet AS on or off, add-path per family, extended messages. */
export const codecOptions: fc.Arbitrary<CodecOptions> = fc
  .record({
    fourOctetAs: fc.boolean(),
    extendedMessages: fc.boolean(),
    addPath: fc.record({ ipv4Unicast: fc.boolean(), ipv6Unicast: fc.boolean() }),
  })
  .map((o) => o);

/** Options plus a well-formed message of any type that fits them. */
export const messageWithOptions: fc.Arbitrary<[BgpMessage, CodecOptions]> = codecOptions.chain((options) =>
  fc.tuple(fc.oneof(open, update(options), notification, keepalive, routeRefresh), fc.constant(options)),
);
