import { PACKET_MAGIC } from './codec.js';
import type { Keyring } from './keyring.js';

/** First byte of an encrypted envelope (`'E'`). */
export const SEALED_MAGIC = 0x45;
const SEALED_VERSION = 1;

/** Why {@link openEnvelope} refused a datagram or frame. */
export type EnvelopeRejection = 'auth-failed' | 'plaintext-refused' | 'encrypted-without-key' | 'bad-envelope';

/**
 * Wraps an encoded packet for the wire: sealed with the keyring's primary key (`[0x45][1][nonce][ct][tag]`, AAD = the two
 * header bytes) or sent as-is without a keyring.
 * @param packet - output of `encodePacket`
 * @param keyring - the cluster keyring, if encryption is on
 */
export function sealEnvelope(packet: Uint8Array, keyring: Keyring | undefined): Uint8Array {
  if (!keyring) return packet;
  const header = Uint8Array.of(SEALED_MAGIC, SEALED_VERSION);
  const sealed = keyring.seal(packet, header);
  const out = new Uint8Array(2 + sealed.length);
  out.set(header, 0);
  out.set(sealed, 2);
  return out;
}

/**
 * Unwraps what {@link sealEnvelope} produced. With a keyring, plaintext is refused; without one, sealed data is refused.
 * @param data - received bytes
 * @param keyring - the cluster keyring, if encryption is on
 * @returns the packet bytes, or the reason it was refused
 */
export function openEnvelope(
  data: Uint8Array,
  keyring: Keyring | undefined,
): { ok: true; packet: Uint8Array } | { ok: false; reason: EnvelopeRejection } {
  const magic = data[0];
  if (magic === SEALED_MAGIC) {
    if (!keyring) return { ok: false, reason: 'encrypted-without-key' };
    if (data[1] !== SEALED_VERSION) return { ok: false, reason: 'bad-envelope' };
    const packet = keyring.open(data.subarray(2), data.subarray(0, 2));
    return packet ? { ok: true, packet } : { ok: false, reason: 'auth-failed' };
  }
  if (magic === PACKET_MAGIC) {
    if (keyring) return { ok: false, reason: 'plaintext-refused' };
    return { ok: true, packet: data };
  }
  return { ok: false, reason: 'bad-envelope' };
}
