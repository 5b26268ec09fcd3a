import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ENVELOPE_OVERHEAD,
  encodePacket,
  Keyring,
  openEnvelope,
  ReplayWindow,
  SEALED_VERSION,
  sealEnvelope,
} from '../src/index.js';

const ring = new Keyring([new Uint8Array(32).fill(4)]);
const pkt = encodePacket({ messages: [{ type: 'ack', seq: 9 }] });

describe('sealed envelope v2: send time in the authenticated header', () => {
  it('carries the send time, authenticated: a changed timestamp fails authentication', () => {
    const sealed = sealEnvelope(pkt, ring, 1_700_000_000_123);
    expect(sealed.length).toBe(pkt.length + ENVELOPE_OVERHEAD);
    expect([sealed[0], sealed[1]]).toEqual([0x45, SEALED_VERSION]);
    expect(Buffer.from(sealed.subarray(2, 10)).readBigUInt64BE(0)).toBe(1_700_000_000_123n);
    expect(openEnvelope(sealed, ring).ok).toBe(true);
    const shifted = sealed.slice();
    shifted[9]! ^= 1;
    expect(openEnvelope(shifted, ring)).toEqual({ ok: false, reason: 'auth-failed' });
    // version 1 (no timestamp, replayable) is refused; so is anything shorter than the overhead
    const v1 = sealed.slice();
    v1[1] = 1;
    expect(openEnvelope(v1, ring)).toEqual({ ok: false, reason: 'bad-envelope' });
    expect(openEnvelope(sealed.subarray(0, ENVELOPE_OVERHEAD - 1), ring)).toEqual({
      ok: false,
      reason: 'bad-envelope',
    });
  });

  it('with a guard: stale outside ± window, replayed on a second copy, ok within', () => {
    const window = new ReplayWindow({ windowMs: 1000 });
    const now = 50_000;
    const at = (t: number) => sealEnvelope(pkt, ring, t);
    expect(openEnvelope(at(now - 1001), ring, { window, now })).toEqual({ ok: false, reason: 'stale' });
    expect(openEnvelope(at(now + 1001), ring, { window, now })).toEqual({ ok: false, reason: 'stale' });
    const p = at(now - 999);
    expect(openEnvelope(p, ring, { window, now }).ok).toBe(true);
    expect(openEnvelope(p, ring, { window, now })).toEqual({ ok: false, reason: 'replayed' });
    // the copy from a sliced buffer is the same packet
    const copy = new Uint8Array(p.length + 3);
    copy.set(p, 3);
    expect(openEnvelope(copy.subarray(3), ring, { window, now: now + 1 })).toEqual({ ok: false, reason: 'replayed' });
    // forged packets (wrong key) are never recorded
    const forged = sealEnvelope(pkt, new Keyring([new Uint8Array(32).fill(5)]), now);
    expect(openEnvelope(forged, ring, { window, now })).toEqual({ ok: false, reason: 'auth-failed' });
    expect(window.size).toBe(1);
  });

  it('never throws on arbitrary bytes, with or without a guard', () => {
    const window = new ReplayWindow();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, sealed) => {
        const data = sealed && bytes.length > 1 ? Uint8Array.of(0x45, SEALED_VERSION, ...bytes) : bytes;
        const r = openEnvelope(data, ring, { window, now: Date.now() });
        expect(r.ok).toBe(false);
      }),
    );
  });
});

describe('ReplayWindow', () => {
  it('never accepts a nonce twice and never holds more than maxEntries, whatever the order of arrivals', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ nonce: fc.integer({ min: 0, max: 400 }), age: fc.integer({ min: -1200, max: 1200 }) }), {
          maxLength: 600,
        }),
        (arrivals) => {
          const w = new ReplayWindow({ windowMs: 1000, maxEntries: 32 });
          const sentAt = new Map<number, number>(); // one send time per nonce, as a real packet has
          const accepted = new Set<number>();
          let now = 10_000;
          for (const { nonce, age } of arrivals) {
            now += 3;
            const t = sentAt.get(nonce) ?? now - age;
            sentAt.set(nonce, t);
            const v = w.check(t, String(nonce), now);
            if (v === 'ok') {
              expect(accepted.has(nonce)).toBe(false);
              accepted.add(nonce);
              expect(Math.abs(now - t)).toBeLessThanOrEqual(1000);
            }
            expect(w.size).toBeLessThanOrEqual(32);
          }
        },
      ),
    );
  });

  it('forgets what is outside the window and keeps accepting fresh traffic', () => {
    const w = new ReplayWindow({ windowMs: 1000, maxEntries: 100 });
    for (let i = 0; i < 10_000; i++) expect(w.check(i, `n${i}`, i)).toBe('ok');
    expect(w.size).toBeLessThanOrEqual(100);
    expect(w.check(9_990, 'n9990', 10_000)).toBe('replayed');
    expect(() => new ReplayWindow({ windowMs: 0 })).toThrow(ConfigError);
    expect(() => new ReplayWindow({ maxEntries: 1.5 })).toThrow(ConfigError);
  });
});
