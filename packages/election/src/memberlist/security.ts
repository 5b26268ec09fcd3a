/**
 * memberlist's encryption (v0.5.1 security.go): `[version][nonce 12][AES-GCM ciphertext and 16-byte tag]` under the
 * primary key, opened with every installed key in turn. Version 0 pads the plaintext with PKCS#7 before sealing (old
 * peers); version 1 (what protocol versions 2-5 send) does not. The key is 16, 24 or 32 bytes (AES-128/192/256);
 * MetalLB's is 32 (see {@link metallbSecretKey}). The additional data is the packet label, or for a stream the 5-byte
 * `[10][length]` header followed by the label.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CodecError, ConfigError } from '../errors.js';

/** Encryption version byte: 0 = AES-GCM with PKCS#7 padding, 1 = AES-GCM without padding. */
export type MlEncryptionVersion = 0 | 1;

const VERSION_SIZE = 1;
const NONCE_SIZE = 12;
const TAG_SIZE = 16;
const BLOCK_SIZE = 16;

/** Bytes encryption adds for `version` at most (memberlist's encryptOverhead): 45 for version 0, 29 for version 1. */
export function mlEncryptOverhead(version: MlEncryptionVersion): number {
  return version === 0 ? VERSION_SIZE + NONCE_SIZE + BLOCK_SIZE + TAG_SIZE : VERSION_SIZE + NONCE_SIZE + TAG_SIZE;
}

/** Length of the sealed form of `plainLength` bytes (memberlist's encryptedLength). */
export function mlEncryptedLength(version: MlEncryptionVersion, plainLength: number): number {
  if (version === 1) return VERSION_SIZE + NONCE_SIZE + plainLength + TAG_SIZE;
  return VERSION_SIZE + NONCE_SIZE + plainLength + (BLOCK_SIZE - (plainLength % BLOCK_SIZE)) + TAG_SIZE;
}

function cipherName(key: Uint8Array): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  switch (key.length) {
    case 16:
      return 'aes-128-gcm';
    case 24:
      return 'aes-192-gcm';
    case 32:
      return 'aes-256-gcm';
    default:
      throw new ConfigError('key', `memberlist keys are 16, 24 or 32 bytes, got ${key.length}`);
  }
}

/**
 * Seal `plain` as memberlist's encryptPayload does.
 * @param version - encryption version byte
 * @param key - the primary key
 * @param plain - the plaintext
 * @param aad - additional authenticated data
 * @param nonce - 12 bytes; random when omitted (tests pass the nonce of a captured vector)
 */
export function mlEncrypt(
  version: MlEncryptionVersion,
  key: Uint8Array,
  plain: Uint8Array,
  aad: Uint8Array,
  nonce: Uint8Array = randomBytes(NONCE_SIZE),
): Uint8Array {
  if (nonce.length !== NONCE_SIZE) throw new ConfigError('nonce', `nonces are ${NONCE_SIZE} bytes`);
  let src = plain;
  if (version === 0) {
    const pad = BLOCK_SIZE - (plain.length % BLOCK_SIZE);
    src = new Uint8Array(plain.length + pad);
    src.set(plain);
    src.fill(pad, plain.length);
  }
  const c = createCipheriv(cipherName(key), key, nonce);
  c.setAAD(aad);
  const body = c.update(src);
  c.final();
  const out = new Uint8Array(VERSION_SIZE + NONCE_SIZE + body.length + TAG_SIZE);
  out[0] = version;
  out.set(nonce, VERSION_SIZE);
  out.set(body, VERSION_SIZE + NONCE_SIZE);
  out.set(c.getAuthTag(), VERSION_SIZE + NONCE_SIZE + body.length);
  return out;
}

/**
 * Open a sealed payload with each key in turn (memberlist's decryptPayload). Throws {@link CodecError}: `truncated`
 * when shorter than a sealed empty payload, `bad-version` for a version above 1, `unauthenticated` when no key opens
 * it, `bad-value` for version-0 padding that is not PKCS#7.
 */
export function mlDecrypt(keys: readonly Uint8Array[], sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  if (sealed.length === 0) throw new CodecError('truncated', 'memberlist: cannot decrypt an empty payload', 0);
  const version = sealed[0] as number;
  if (version > 1) throw new CodecError('bad-version', `memberlist: unsupported encryption version ${version}`, 0);
  if (sealed.length < mlEncryptedLength(version as MlEncryptionVersion, 0)) {
    throw new CodecError('truncated', `memberlist: payload of ${sealed.length} bytes is too small to decrypt`, 0);
  }
  const nonce = sealed.subarray(VERSION_SIZE, VERSION_SIZE + NONCE_SIZE);
  const body = sealed.subarray(VERSION_SIZE + NONCE_SIZE, sealed.length - TAG_SIZE);
  const tag = sealed.subarray(sealed.length - TAG_SIZE);
  for (const key of keys) {
    let plain: Buffer;
    try {
      const d = createDecipheriv(cipherName(key), key, nonce);
      d.setAAD(aad);
      d.setAuthTag(tag);
      plain = Buffer.concat([d.update(body), d.final()]);
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      continue;
    }
    const out = new Uint8Array(plain.buffer, plain.byteOffset, plain.length);
    if (version === 1) return out;
    const pad = out.length > 0 ? (out[out.length - 1] as number) : 0;
    if (pad < 1 || pad > BLOCK_SIZE || pad > out.length) {
      throw new CodecError('bad-value', 'memberlist: bad PKCS#7 padding in a version-0 payload', 0);
    }
    return out.subarray(0, out.length - pad);
  }
  throw new CodecError('unauthenticated', 'memberlist: no installed key decrypts the payload', 0);
}
