import { PACKET_MAGIC } from './codec.js';
import type { Keyring } from './keyring.js';
import type { ReplayWindow } from './replay-window.js';

/** First byte of an encrypted envelope (`'E'`). */
export const SEALED_MAGIC = 0x45;
/** Version of the sealed envelope: 2 carries the send time in the authenticated header (1, without it, is refused). */
export const SEALED_VERSION = 2;
/** Bytes of the sealed header: magic, version, send time (u64 ms, big-endian). */
const HEADER = 10;
const NONCE = 12;
/** Bytes a sealed envelope adds to a packet: header, nonce, GCM tag. */
export const ENVELOPE_OVERHEAD = HEADER + NONCE + 16;

/** Why {@link openEnvelope} refused a datagram or frame. */
export type EnvelopeRejection =
  | 'auth-failed'
  | 'plaintext-refused'
  | 'encrypted-without-key'
  | 'bad-envelope'
  | 'stale'
  | 'replayed';

/** Replay check for {@link openEnvelope}: the receiver's window and its clock now (ms). */
export interface ReplayGuard {
  window: ReplayWindow;
  now: number;
}

/**
 * Wraps an encoded packet for the wire: sealed with the keyring's primary key as
 * `[0x45][2][sent u64 ms][nonce 12][ciphertext][tag 16]`, AAD = the 10 header bytes (so the send time is authenticated),
 * or sent as-is without a keyring.
 * @param packet - output of `encodePacket`
 * @param keyring - the cluster keyring, if encryption is on
 * @param now - the send time in ms (default `Date.now()`); receivers refuse it outside their replay window
 */
export function sealEnvelope(packet: Uint8Array, keyring: Keyring | undefined, now: number = Date.now()): Uint8Array {
  if (!keyring) return packet;
  const header = new Uint8Array(HEADER);
  header[0] = SEALED_MAGIC;
  header[1] = SEALED_VERSION;
  const t = Math.max(0, Math.floor(now));
  const view = new DataView(header.buffer);
  view.setUint32(2, Math.floor(t / 2 ** 32));
  view.setUint32(6, t >>> 0);
  const sealed = keyring.seal(packet, header);
  const out = new Uint8Array(HEADER + sealed.length);
  out.set(header, 0);
  out.set(sealed, HEADER);
  return out;
}

/**
 * Unwraps what {@link sealEnvelope} produced. With a keyring, plaintext is refused; without one, sealed data is refused.
 * With a replay guard, a sealed packet whose send time is outside the window is refused before decryption (`stale`),
 * and one whose nonce was already accepted is refused after authentication (`replayed`).
 * @param data - received bytes
 * @param keyring - the cluster keyring, if encryption is on
 * @param guard - the receiver's replay window and clock
 * @returns the packet bytes, or the reason it was refused
 */
export function openEnvelope(
  data: Uint8Array,
  keyring: Keyring | undefined,
  guard?: ReplayGuard,
): { ok: true; packet: Uint8Array } | { ok: false; reason: EnvelopeRejection } {
  const magic = data[0];
  if (magic === SEALED_MAGIC) {
    if (!keyring) return { ok: false, reason: 'encrypted-without-key' };
    if (data.length < ENVELOPE_OVERHEAD || data[1] !== SEALED_VERSION) return { ok: false, reason: 'bad-envelope' };
    const view = new DataView(data.buffer, data.byteOffset, HEADER);
    const sentAt = view.getUint32(2) * 2 ** 32 + view.getUint32(6);
    if (guard && guard.window.fresh(sentAt, guard.now) !== 'ok') return { ok: false, reason: 'stale' };
    const packet = keyring.open(data.subarray(HEADER), data.subarray(0, HEADER));
    if (!packet) return { ok: false, reason: 'auth-failed' };
    if (guard) {
      const nonce = Buffer.from(data.buffer, data.byteOffset + HEADER, NONCE).toString('latin1');
      const verdict = guard.window.check(sentAt, nonce, guard.now);
      if (verdict !== 'ok') return { ok: false, reason: verdict };
    }
    return { ok: true, packet };
  }
  if (magic === PACKET_MAGIC) {
    if (keyring) return { ok: false, reason: 'plaintext-refused' };
    return { ok: true, packet: data };
  }
  return { ok: false, reason: 'bad-envelope' };
}
