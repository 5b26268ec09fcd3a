/**
 * The memberlist secret rule, shared by the Node document's reader and the membership it configures.
 * @module
 */

/**
 * Shortest memberlist secret accepted, in bytes. MetalLB's controller generates 16 random bytes (22 raw-base64
 * characters); its older install docs used `openssl rand -base64 128`. The AES-256 key is the first 32 bytes of
 * `secret ‖ SHA-256("")` (MetalLB's derivation), so a secret of n bytes carries at most n secret bytes of key: below
 * 16 (128 bits) the rest of the key is a public constant.
 */
export const MIN_SECRET_BYTES = 16;

/**
 * Checks a memberlist secret: non-empty and at least {@link MIN_SECRET_BYTES} bytes.
 * @returns undefined when fine, else the reason
 */
export function gossipSecretProblem(secret: string): string | undefined {
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes === 0) return 'the memberlist secret is empty (an empty secret never means plaintext)';
  if (bytes < MIN_SECRET_BYTES)
    return `the memberlist secret is ${bytes} bytes; at least ${MIN_SECRET_BYTES} are needed (MetalLB generates 16 random bytes, raw-base64: 22 characters)`;
  return undefined;
}
