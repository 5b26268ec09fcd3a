import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const raw = JSON.parse(
  readFileSync(fileURLToPath(new URL('../fixtures/frames.json', import.meta.url)), 'utf8'),
) as Record<string, string>;

/** Bytes of a captured frame (see fixtures/capture.sh). */
export function fixture(name: string): Uint8Array {
  const hex = raw[name];
  if (!hex) throw new Error(`no fixture ${name}`);
  return hexToBytes(hex);
}

export function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Copies `b` to a nonzero offset inside a larger buffer and returns the view: catches byteOffset bugs. */
export function sliced(b: Uint8Array, pad = 7): Uint8Array {
  const big = new Uint8Array(b.length + pad * 2).fill(0xee);
  big.set(b, pad);
  return big.subarray(pad, pad + b.length);
}
