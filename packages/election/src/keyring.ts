import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ConfigError } from './errors.js';

/** AES-256 key length in bytes. */
export const KEY_LENGTH = 32;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function checkKey(key: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) {
    throw new ConfigError('key', `AES-256 keys are ${KEY_LENGTH} bytes, got ${key?.length}`);
  }
  return Uint8Array.from(key);
}

/**
 * AES-256-GCM keys for a cluster: the primary key encrypts everything sent; every key in the ring is tried when
 * decrypting, so keys rotate without downtime (add the new key everywhere, make it primary everywhere, then remove the
 * old one).
 */
export class Keyring {
  private keys: Uint8Array[];

  /**
   * @param keys - 32-byte keys, the first is the primary
   * @throws {@link ConfigError} when empty or a key is not 32 bytes
   */
  constructor(keys: readonly Uint8Array[]) {
    if (keys.length === 0) throw new ConfigError('keys', 'a keyring needs at least one key');
    this.keys = keys.map(checkKey);
  }

  /** The key used to encrypt (a copy). */
  get primaryKey(): Uint8Array {
    return Uint8Array.from(this.keys[0]!);
  }

  /** All keys, primary first (copies). */
  get allKeys(): Uint8Array[] {
    return this.keys.map((k) => Uint8Array.from(k));
  }

  /**
   * Adds a key accepted for decryption (no-op if present).
   * @param key - 32 bytes
   */
  addKey(key: Uint8Array): void {
    const k = checkKey(key);
    if (!this.keys.some((x) => sameBytes(x, k))) this.keys.push(k);
  }

  /**
   * Makes a key the primary (adding it if needed).
   * @param key - 32 bytes
   */
  useKey(key: Uint8Array): void {
    const k = checkKey(key);
    this.keys = [k, ...this.keys.filter((x) => !sameBytes(x, k))];
  }

  /**
   * Removes a non-primary key.
   * @param key - 32 bytes
   * @throws {@link ConfigError} when asked to remove the primary key
   */
  removeKey(key: Uint8Array): void {
    const k = checkKey(key);
    if (sameBytes(this.keys[0]!, k))
      throw new ConfigError('key', 'cannot remove the primary key; useKey() another first');
    this.keys = this.keys.filter((x) => !sameBytes(x, k));
  }

  /**
   * Encrypts with the primary key: returns `nonce(12) ‖ ciphertext ‖ tag(16)`.
   * @param plaintext - bytes to protect
   * @param aad - additional authenticated data (not encrypted)
   */
  seal(plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
    const nonce = randomBytes(NONCE_LENGTH);
    const c = createCipheriv('aes-256-gcm', this.keys[0]!, nonce);
    c.setAAD(aad);
    const body = c.update(plaintext);
    c.final();
    const out = new Uint8Array(NONCE_LENGTH + body.length + TAG_LENGTH);
    out.set(nonce, 0);
    out.set(body, NONCE_LENGTH);
    out.set(c.getAuthTag(), NONCE_LENGTH + body.length);
    return out;
  }

  /**
   * Decrypts `nonce ‖ ciphertext ‖ tag` with each key in turn.
   * @param sealed - output of {@link Keyring.seal}
   * @param aad - the same additional data
   * @returns the plaintext, or undefined when no key authenticates it
   */
  open(sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
    if (sealed.length < NONCE_LENGTH + TAG_LENGTH) return undefined;
    const nonce = sealed.subarray(0, NONCE_LENGTH);
    const body = sealed.subarray(NONCE_LENGTH, sealed.length - TAG_LENGTH);
    const tag = sealed.subarray(sealed.length - TAG_LENGTH);
    for (const key of this.keys) {
      try {
        const d = createDecipheriv('aes-256-gcm', key, nonce);
        d.setAAD(aad);
        d.setAuthTag(tag);
        const out = d.update(body);
        d.final();
        return new Uint8Array(out.buffer, out.byteOffset, out.length);
      } catch {
        // wrong key or tampered: try the next key
      }
    }
    return undefined;
  }
}

/**
 * MetalLB's derivation of the memberlist key from its Secret (`speakerlist.go`):
 * `sha256.New().Sum([]byte(secret))[:32]`. Go's `Sum(b)` appends the digest of the (empty) hash state to `b`, so the key
 * is the first 32 bytes of `secret ‖ SHA-256("")`, not a hash of the secret. Reproduced exactly, quirk included.
 * @param secret - the `secretkey` value (usually 22 base64 characters), as text or bytes
 * @returns a 32-byte AES-256 key
 */
export function metallbSecretKey(secret: string | Uint8Array): Uint8Array {
  const s = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  const empty = createHash('sha256').digest();
  const out = new Uint8Array(s.length + empty.length);
  out.set(s, 0);
  out.set(empty, s.length);
  return out.slice(0, KEY_LENGTH);
}
