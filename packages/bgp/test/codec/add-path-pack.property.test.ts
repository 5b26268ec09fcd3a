import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CodecOptions,
  decodeMessage,
  isBgpError,
  type PathAttributes,
  packUpdates,
  packWithdrawals,
  type UpdateMessage,
} from '../../src/internal.js';
import { ipv4Prefix, ipv6Prefix } from './arbitraries.js';

// ADD-PATH send (RFC 7911 §3) as the speaker uses it: one path identifier per packed set of UPDATEs (the speaker
// packs each path of a route with its own identifier). Every message, copied into a sliced buffer at an offset,
// decodes back to the same prefixes, each with the identifier where ADD-PATH is on for its family and none where it
// is off, within the 4096-octet limit; read with the other side's view of ADD-PATH it decodes or throws a BgpError.

const attributes: PathAttributes = { origin: 'igp', asPath: [], nextHop: '192.0.2.1', localPref: 100 };

/** `bytes` copied into a larger buffer, returned as a view with a nonzero byteOffset. */
function sliced(bytes: Uint8Array): Uint8Array {
  const backing = new ArrayBuffer(bytes.length + 40);
  const view = new Uint8Array(backing, 11, bytes.length + 20);
  view.set(bytes, 9);
  return view.subarray(9, 9 + bytes.length);
}

const input = fc.record({
  v4: fc.uniqueArray(ipv4Prefix, { maxLength: 400 }),
  v6: fc.uniqueArray(ipv6Prefix, { maxLength: 200 }),
  pathId: fc.nat({ max: 0xffffffff }),
  addPath: fc.record({ ipv4Unicast: fc.boolean(), ipv6Unicast: fc.boolean() }),
});

/** Prefixes and path identifiers of decoded UPDATEs: announced (or withdrawn) per family. */
function collect(updates: UpdateMessage[], withdrawn: boolean) {
  const v4: [string, number | undefined][] = [];
  const v6: [string, number | undefined][] = [];
  for (const u of updates) {
    const list4 = withdrawn ? u.withdrawn : u.nlri;
    const ids4 = withdrawn ? u.withdrawnPathIds : u.nlriPathIds;
    for (const [i, p] of list4.entries()) v4.push([p, ids4?.[i]]);
    const reach = u.attributes.mpReach;
    const unreach = u.attributes.mpUnreach;
    const [list6, ids6] = withdrawn
      ? [unreach?.afi === 2 ? unreach.withdrawn : [], unreach?.pathIds]
      : [reach?.afi === 2 ? reach.nlri : [], reach?.pathIds];
    for (const [i, p] of list6.entries()) v6.push([p, ids6?.[i]]);
  }
  return { v4, v6 };
}

describe('ADD-PATH NLRI: packed UPDATEs and withdrawals with a path identifier round-trip (fast-check)', () => {
  it('announcements and withdrawals decode back to the same prefixes with the path identifier, sliced', () => {
    fc.assert(
      fc.property(input, ({ v4, v6, pathId, addPath }) => {
        const options: CodecOptions & { pathId: number; ipv6NextHop: string } = {
          fourOctetAs: true,
          addPath,
          pathId,
          ipv6NextHop: '2001:db8::1',
        };
        const id = (on: boolean) => (on ? pathId : undefined);
        for (const withdrawn of [false, true]) {
          const messages = withdrawn
            ? packWithdrawals([...v4, ...v6], options)
            : packUpdates(attributes, [...v4, ...v6], options);
          const updates = messages.map((m) => {
            expect(m.length).toBeLessThanOrEqual(4096);
            return decodeMessage(sliced(m), options) as UpdateMessage;
          });
          const got = collect(updates, withdrawn);
          expect(got.v4).toEqual(v4.map((p) => [p, id(addPath.ipv4Unicast)]));
          expect(got.v6).toEqual(v6.map((p) => [p, id(addPath.ipv6Unicast)]));
          // a receiver that disagrees about ADD-PATH reads garbage: a typed error or some UPDATE, never a crash
          const wrong: CodecOptions = {
            fourOctetAs: true,
            addPath: { ipv4Unicast: !addPath.ipv4Unicast, ipv6Unicast: !addPath.ipv6Unicast },
          };
          for (const m of messages) {
            try {
              decodeMessage(sliced(m), wrong);
            } catch (err) {
              if (!isBgpError(err)) throw err;
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
