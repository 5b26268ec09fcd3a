import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../src/codec/index.js';
import type { UpdateMessage } from '../../src/codec/types.js';
import { AdjRibOut, type Announcement, announcementKey, type ExportContext } from '../../src/speaker/index.js';

// Model check: random announce/withdraw turns, ROUTE-REFRESH resends and session resets, flushed like the speaker does
// (one change log per turn), applied to a simulated receiver. After every turn the receiver must hold exactly the
// exportable part of the table, with the right attributes.

const CTX: ExportContext = {
  localAsn: 65001,
  internal: false,
  families: ['ipv4', 'ipv6'],
  codec: { fourOctetAs: true },
  peerAddress: '192.0.2.2',
  localAddress: '2001:db8:0:1::1',
  nextHop4: '192.0.2.1',
};

const ANNS: Announcement[] = [
  {},
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
  for (const p of [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])]) rib.delete(p);
  const { mpReach, mpUnreach: _u, encoding: _e, ...attrs } = u.attributes;
  const key = JSON.stringify(attrs);
  for (const p of u.nlri) rib.set(p, key);
  for (const p of mpReach?.nlri ?? []) rib.set(p, key);
}

describe('AdjRibOut model check', () => {
  it('keeps the receiver equal to the exportable table through changes, refreshes and resets', () => {
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
          expect(out.size).toBe(want.size);
        }
      }),
      { numRuns: 300 },
    );
  });
});
