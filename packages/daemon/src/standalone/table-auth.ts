import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { metallbSecretKey } from '@ingot/election';

/** HTTP header carrying the HMAC of a `/assignments` body: `sha256=<64 hex digits>`. */
export const SIGNATURE_HEADER = 'x-ingot-signature';

/** HKDF `info` separating the replication key from the gossip key derived from the same secret. */
const KEY_INFO = 'ingot.dev/assignments v1';

/**
 * The key that authenticates replicated assignment tables: HKDF-SHA256 over the gossip key (derived from the
 * memberlist secret as MetalLB does), so only members holding the cluster's secret can sign a table, and the gossip
 * key itself is never used for a second purpose.
 */
export function replicationKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', metallbSecretKey(secret), new Uint8Array(0), KEY_INFO, 32));
}

/** The {@link SIGNATURE_HEADER} value for `body`: `sha256=` and the hex HMAC-SHA256 under `key`. */
export function signBody(key: Uint8Array, body: Uint8Array | string): string {
  return `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
}

/** Does `header` carry the HMAC of `body` under `key`? Constant-time comparison; false for a missing or malformed header. */
export function verifyBody(key: Uint8Array, body: Uint8Array | string, header: string | undefined): boolean {
  if (typeof header !== 'string' || !/^sha256=[0-9a-f]{64}$/.test(header)) return false;
  const expected = Buffer.from(signBody(key, body), 'latin1');
  return timingSafeEqual(expected, Buffer.from(header, 'latin1'));
}
