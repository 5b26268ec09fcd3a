import { afterEach, describe, expect, it } from 'vitest';
import { BgpSpeaker, type NotificationEvent } from '../../src/speaker/index.js';
import { until } from '../helpers/until.js';

// A peer configured with asn 'internal' / 'external' (FRR's remote-as internal|external, MetalLB's dynamicASN) over
// loopback TCP: A (passive, dynamic) on 127.0.0.1, B (active) on 127.0.0.2.
const A = '127.0.0.1';
const B = '127.0.0.2';
const PORT = 19900 + (process.pid % 1000);
const NH = { nextHop4: '192.0.2.2', nextHop6: '2001:db8::2' };
const speakers: BgpSpeaker[] = [];
afterEach(async () => {
  await Promise.all(speakers.splice(0).map((s) => s.close()));
});

async function attempt(dynamic: 'internal' | 'external', asnA: number, asnB: number) {
  const a = new BgpSpeaker({ asn: asnA, routerId: A, listen: { host: A, port: PORT } });
  const b = new BgpSpeaker({ asn: asnB, routerId: B });
  speakers.push(a, b);
  await a.listening();
  const rx = a.addPeer({ address: B, asn: dynamic, passive: true });
  const tx = b.addPeer({ address: A, asn: asnA, port: PORT, localAddress: B, ...NH, backoff: { initialMs: 5000 } });
  const notes: NotificationEvent[] = [];
  rx.on('notification', (n) => notes.push(n));
  return { rx, tx, notes };
}

describe('dynamic peer AS', () => {
  it("'external' accepts any other AS and the session is eBGP", async () => {
    const { rx } = await attempt('external', 65001, 65099);
    await until(() => rx.state === 'Established');
    expect(rx.session).toMatchObject({ peerAsn: 65099, internal: false });
  });

  it("'internal' accepts our own AS and the session is iBGP", async () => {
    const { rx } = await attempt('internal', 65001, 65001);
    await until(() => rx.state === 'Established');
    expect(rx.session).toMatchObject({ peerAsn: 65001, internal: true });
  });

  it("'internal' refuses another AS, 'external' our own, with OPEN Error / Bad Peer AS", async () => {
    for (const [dynamic, asnB] of [
      ['internal', 65002],
      ['external', 65001],
    ] as const) {
      const { rx, notes } = await attempt(dynamic, 65001, asnB);
      await until(() => notes.some((n) => n.direction === 'sent'));
      expect(notes.find((n) => n.direction === 'sent')).toMatchObject({ code: 2, subcode: 2 });
      expect(rx.state).not.toBe('Established');
      await Promise.all(speakers.splice(0).map((s) => s.close()));
    }
  });

  it('refuses an asn that is neither a number nor internal/external', () => {
    const a = new BgpSpeaker({ asn: 65001, routerId: A });
    speakers.push(a);
    expect(() => a.addPeer({ address: B, asn: 'both' as never })).toThrow(/'internal' or 'external'/);
  });
});
