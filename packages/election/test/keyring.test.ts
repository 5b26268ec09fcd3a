import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, encodePacket, Keyring, metallbSecretKey, openEnvelope, sealEnvelope } from '../src/index.js';

const key = (b: number) => new Uint8Array(32).fill(b);

describe('Keyring', () => {
  it('seals with the primary key and opens with any key in the ring', () => {
    const a = new Keyring([key(1)]);
    const sealed = a.seal(Uint8Array.of(1, 2, 3), Uint8Array.of(9));
    expect(sealed.length).toBe(12 + 3 + 16);
    expect(a.open(sealed, Uint8Array.of(9))).toEqual(Uint8Array.of(1, 2, 3));
    expect(a.open(sealed, Uint8Array.of(8))).toBeUndefined();
    const b = new Keyring([key(2), key(1)]);
    expect(b.open(sealed, Uint8Array.of(9))).toEqual(Uint8Array.of(1, 2, 3));
    expect(new Keyring([key(2)]).open(sealed, Uint8Array.of(9))).toBeUndefined();
    const tampered = sealed.slice();
    tampered[13]! ^= 1;
    expect(a.open(tampered, Uint8Array.of(9))).toBeUndefined();
    expect(a.open(new Uint8Array(10), Uint8Array.of(9))).toBeUndefined();
  });
  it('rotates: add, use, remove; refuses to drop the primary or take wrong-size keys', () => {
    const r = new Keyring([key(1)]);
    r.addKey(key(2));
    r.addKey(key(2));
    expect(r.allKeys.length).toBe(2);
    r.useKey(key(2));
    expect(r.primaryKey).toEqual(key(2));
    expect(() => r.removeKey(key(2))).toThrow(ConfigError);
    r.removeKey(key(1));
    expect(r.allKeys).toEqual([key(2)]);
    expect(() => new Keyring([new Uint8Array(16)])).toThrow(ConfigError);
    expect(() => new Keyring([])).toThrow(ConfigError);
  });
});

describe('metallbSecretKey', () => {
  it('reproduces Go sha256.New().Sum([]byte(secret))[:32]: the secret followed by SHA-256("")', () => {
    const secret = 'AAECAwQFBgcICQoLDA0ODw'; // 22 raw-base64 chars, as the controller creates
    const k = metallbSecretKey(secret);
    expect(Buffer.from(k).toString('hex')).toBe(
      `${Buffer.from(secret).toString('hex')}${'e3b0c44298fc1c149afbf4c8996fb924'.slice(0, 20)}`,
    );
    expect(Buffer.from(metallbSecretKey('s3cr3t')).toString('hex')).toBe(
      `733363723374${createHash('sha256').digest('hex')}`.slice(0, 64),
    );
    const long = randomBytes(40);
    expect(metallbSecretKey(long)).toEqual(new Uint8Array(long.subarray(0, 32)));
    expect(metallbSecretKey(secret).length).toBe(32);
  });
});

describe('envelope', () => {
  const pkt = encodePacket({ messages: [{ type: 'ack', seq: 7 }] });
  it('passes plaintext without a keyring and refuses sealed data there', () => {
    expect(openEnvelope(sealEnvelope(pkt, undefined), undefined)).toEqual({ ok: true, packet: pkt });
    const sealed = sealEnvelope(pkt, new Keyring([key(1)]));
    expect(openEnvelope(sealed, undefined)).toEqual({ ok: false, reason: 'encrypted-without-key' });
  });
  it('refuses plaintext with a keyring, and fails authentication with a wrong key', () => {
    const ring = new Keyring([key(1)]);
    expect(openEnvelope(pkt, ring)).toEqual({ ok: false, reason: 'plaintext-refused' });
    const sealed = sealEnvelope(pkt, ring);
    expect(sealed[0]).toBe(0x45);
    const opened = openEnvelope(sealed, ring);
    expect(opened.ok && [...opened.packet]).toEqual([...pkt]);
    expect(openEnvelope(sealed, new Keyring([key(3)]))).toEqual({ ok: false, reason: 'auth-failed' });
    expect(openEnvelope(Uint8Array.of(0x00, 1), ring)).toEqual({ ok: false, reason: 'bad-envelope' });
    expect(openEnvelope(Uint8Array.of(0x45, 9, 1), ring)).toEqual({ ok: false, reason: 'bad-envelope' });
  });
});
