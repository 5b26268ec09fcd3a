import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../src/codec/index.js';
import type { UpdateMessage } from '../../src/codec/types.js';
import { AdjRibOut, type Announcement, announcementKey, type ExportContext } from '../../src/speaker/index.js';

// Model check: random announce/withdraw turns, ROUTE-REFRESH resends and session resets, flushed like the speaker does
// (one change log per turn), applied to a simulated receiver. After every turn the receiver must hold exactly the
// exportable part of the table, with the right attributes. With ADD-PATH send negotiated the receiver keys its routes
// by (path identifier, prefix), as RFC 7911 §3 has it, and routes with several next hops are several paths.

const CTX: ExportContext = {
  localAsn: 65001,
  internal: false,
  families: ['ipv4', 'ipv6'],
  codec: { fourOctetAs: true },
  peerAddress: '192.0.2.2',
  localAddress: '2001:db8:0:1::1',
  nextHop4: '192.0.2.1',
};

/** The same session with ADD-PATH send negotiated for both families. */
const CTX_ADD_PATH: ExportContext = {
  ...CTX,
  codec: { fourOctetAs: true, addPath: { ipv4Unicast: true, ipv6Unicast: true } },
};

const ANNS: Announcement[] = [
  {},
  { nextHops: ['192.0.2.7', '2001:db8::7'] },
  { nextHop: '192.0.2.5', nextHops: ['192.0.2.6', '192.0.2.7'] },
  { nextHop: '2001:db8::5', nextHops: ['2001:db8::6'], med: 5 },
  { med: 5 },
  { communities: ['65001:1'] },
  { peers: ['192.0.2.2'], med: 1 },
  { peers: ['192.0.2.99'] }, // not for this peer
].map((options) => ({ key: announcementKey(options), options }));

const PREFIXES = [
  '198.51.100.1/32',
  '198.51.100.2/32',
  '198.51.100.3/32',
  '203.0.113.0/24',
  '2001:db8::1/128',
  '2001:db8::2/128',
];

type Op =
  | { kind: 'set'; prefix: string; ann: number }
  | { kind: 'del'; prefix: string }
  | { kind: 'refresh'; family: 'ipv4' | 'ipv6' }
  | { kind: 'reset' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      prefix: fc.constantFrom(...PREFIXES),
      ann: fc.nat(ANNS.length - 1),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('del' as const), prefix: fc.constantFrom(...PREFIXES) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('refresh' as const),
      family: fc.constantFrom('ipv4' as const, 'ipv6' as const),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
);

function apply(rib: Map<string, string>, u: UpdateMessage): void {
  const at = (ids: number[] | undefined, i: number, p: string) => (ids ? `${ids[i]}|${p}` : p);
  const un = u.attributes.mpUnreach;
  for (const [i, p] of u.withdrawn.entries()) rib.delete(at(u.withdrawnPathIds, i, p));
  for (const [i, p] of (un?.withdrawn ?? []).entries()) rib.delete(at(un?.pathIds, i, p));
  const { mpReach, mpUnreach: _u, encoding: _e, ...attrs } = u.attributes;
  const key = JSON.stringify({ ...attrs, nextHop6: mpReach?.nextHop });
  for (const [i, p] of u.nlri.entries()) rib.set(at(u.nlriPathIds, i, p), key);
  for (const [i, p] of (mpReach?.nlri ?? []).entries()) rib.set(at(mpReach?.pathIds, i, p), key);
}

/** Distinct prefixes among receiver keys ('id|prefix' or 'prefix'). */
const prefixCount = (r: Map<string, string>) => new Set([...r.keys()].map((k) => k.slice(k.indexOf('|') + 1))).size;

describe('AdjRibOut model check', () => {
  it.each([
    ['without ADD-PATH', CTX],
    ['with ADD-PATH send', CTX_ADD_PATH],
  ])('keeps the receiver equal to the exportable table through changes, refreshes and resets (%s)', (_name, CTX) => {
    fc.assert(
      fc.property(fc.array(fc.array(op, { maxLength: 6 }), { maxLength: 12 }), (turns) => {
        const table = new Map<string, Announcement>();
        const out = new AdjRibOut();
        out.reset(CTX);
        let receiver = new Map<string, string>();
        const expected = () => {
          // What a fresh session would receive now.
          const probe = new AdjRibOut();
          probe.reset(CTX);
          const r = new Map<string, string>();
          for (const m of probe.flush(table).messages) apply(r, decodeMessage(m, CTX.codec) as UpdateMessage);
          return r;
        };
        for (const turn of turns) {
          const changes = new Map<string, Announcement | undefined>();
          for (const o of turn) {
            if (o.kind === 'refresh') out.resend(o.family);
            else if (o.kind === 'reset') {
              out.reset(CTX);
              receiver = new Map();
            } else {
              const before = table.get(o.prefix);
              if (o.kind === 'set') table.set(o.prefix, ANNS[o.ann] as Announcement);
              else table.delete(o.prefix);
              if (!changes.has(o.prefix)) changes.set(o.prefix, before);
            }
          }
          for (const m of out.flush(table, changes).messages) {
            apply(receiver, decodeMessage(m, CTX.codec) as UpdateMessage);
          }
          const want = expected();
          expect(receiver).toEqual(want);
          expect(out.size).toBe(prefixCount(want));
        }
      }),
      { numRuns: 300 },
    );
  });
});
