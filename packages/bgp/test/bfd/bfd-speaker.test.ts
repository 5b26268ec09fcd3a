import { afterEach, describe, expect, it } from 'vitest';
import { type BgpPeer, BgpSpeaker, CeaseSubcode, ErrorCode, type NotificationEvent } from '../../src/internal.js';
import { until } from '../helpers/until.js';

/** BFD comes up at its 1 s slow rate first: wait longer than the default. */
const UNTIL_MS = 8000;

// Two speakers with BFD on loopback (127.0.0.1 / 127.0.0.2), BGP and BFD on private ports.
const A = '127.0.0.1';
const B = '127.0.0.2';
const PORT = 27900 + (process.pid % 1000);
const BFD_A = 33000 + (process.pid % 1000);
const BFD_B = BFD_A + 1000;
const NH = { nextHop4: '192.0.2.2', nextHop6: '2001:db8::2' };
const speakers: BgpSpeaker[] = [];
afterEach(async () => {
  await Promise.all(speakers.splice(0).map((s) => s.close()));
});

function speaker(address: string, asn: number, bfdListen: number, bfdPeer: number): BgpSpeaker {
  const s = new BgpSpeaker({
    asn,
    routerId: address,
    listen: { host: address, port: PORT },
    bfd: { listenAddresses: { 4: address }, listenPorts: { singleHop: bfdListen }, peerPorts: { singleHop: bfdPeer } },
  });
  speakers.push(s);
  return s;
}

describe.runIf(process.platform === 'linux')('BGP with BFD', () => {
  it('BFD down ends the BGP session at once with Cease / BFD Down (RFC 9384), and both come back', async () => {
    const a = speaker(A, 65001, BFD_A, BFD_B);
    const b = speaker(B, 65002, BFD_B, BFD_A);
    await Promise.all([a.listening(), b.listening()]);
    const bfd = { transmitInterval: 50, receiveInterval: 50, detectMultiplier: 3 };
    const rx: BgpPeer = a.addPeer({ address: B, asn: 65002, passive: true, bfd });
    const tx: BgpPeer = b.addPeer({
      address: A,
      asn: 65001,
      port: PORT,
      localAddress: B,
      ...NH,
      bfd,
      backoff: { initialMs: 200, maxMs: 400 },
    });
    const bfdStates: string[] = [];
    tx.on('bfd', (state) => bfdStates.push(state));
    await until(() => rx.state === 'Established' && tx.state === 'Established', UNTIL_MS);
    await until(() => a.bfdSession(B)?.state.name === 'Up' && b.bfdSession(A)?.state.name === 'Up', UNTIL_MS);

    const sent: NotificationEvent[] = [];
    tx.on('notification', (n) => sent.push(n));
    // a's BFD goes silent (as if its forwarding plane died) while its BGP stays up
    a.bfdSession(B)!.stop();
    await until(() => sent.length > 0, UNTIL_MS);
    expect(sent[0]).toMatchObject({ direction: 'sent', code: ErrorCode.CEASE, subcode: CeaseSubcode.BFD_DOWN });
    expect(bfdStates).toContain('Down');
    expect(b.bfdSession(A)!.state.diagnostic).toBe(1);
    // BGP reconnects (BFD does not gate it) and BFD comes back once a speaks again
    a.bfdSession(B)!.start();
    await until(() => b.bfdSession(A)?.state.name === 'Up' && tx.state === 'Established', UNTIL_MS);
  });

  it('a peer that sets BFD AdminDown does not tear BGP down (RFC 5882 §3.2)', async () => {
    const a = speaker(A, 65001, BFD_A, BFD_B);
    const b = speaker(B, 65002, BFD_B, BFD_A);
    await Promise.all([a.listening(), b.listening()]);
    const bfd = { transmitInterval: 50, receiveInterval: 50 };
    const rx = a.addPeer({ address: B, asn: 65002, passive: true, bfd });
    const tx = b.addPeer({ address: A, asn: 65001, port: PORT, localAddress: B, ...NH, bfd });
    await until(() => rx.state === 'Established' && tx.state === 'Established', UNTIL_MS);
    await until(() => b.bfdSession(A)?.state.name === 'Up', UNTIL_MS);
    const established = tx.counters.established;
    a.bfdSession(B)!.setAdminDown(true);
    await until(() => b.bfdSession(A)?.state.name === 'Down', UNTIL_MS);
    await new Promise((r) => setTimeout(r, 300));
    expect(tx.state).toBe('Established');
    expect(rx.state).toBe('Established');
    expect(tx.counters.established).toBe(established);
  });

  it('an invalid BFD option is refused before the peer exists', () => {
    const a = speaker(A, 65001, BFD_A, BFD_B);
    expect(() => a.addPeer({ address: B, asn: 65002, bfd: { detectMultiplier: 0 } })).toThrow(RangeError);
    expect(a.getPeer(B)).toBeUndefined();
  });
});
