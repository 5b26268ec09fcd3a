import { expect } from 'vitest';
import {
  type BgpMessage,
  type CodecOptions,
  decodeMessage,
  encodeMessage,
  encodingLength,
} from '../../src/internal.js';

/** Hex (spaces allowed, 'ff×16' for the marker) to bytes. */
export function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/ff×16/g, 'ff'.repeat(16)).replace(/\s/g, ''), 'hex'));
}

/** Bytes to lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * dns-packet's testEncoder, for BGP: encodes; checks the length accounting; decodes and deep-compares; re-encodes the
 * decoded value and compares bytes; encodes into a larger buffer at an offset and into a sliced view of one (nonzero
 * byteOffset) and checks the same bytes come back; decodes from a sliced view at an offset.
 */
export function testEncoder(message: BgpMessage, options: CodecOptions = {}): Uint8Array {
  const bytes = encodeMessage(message, options);
  expect(bytes.length).toBe(encodingLength(message, options));
  expect((bytes[16]! << 8) | bytes[17]!).toBe(bytes.length);
  const decoded = decodeMessage(bytes, options);
  expect(decoded).toEqual(message);
  expect(toHex(encodeMessage(decoded, options))).toBe(toHex(bytes));
  // into a larger buffer at an offset
  const big = new Uint8Array(bytes.length + 20).fill(0xaa);
  const view = encodeMessage(message, options, big, 7);
  expect(view.byteOffset).toBe(7);
  expect(toHex(view)).toBe(toHex(bytes));
  expect(big[6]).toBe(0xaa);
  expect(big[7 + bytes.length]).toBe(0xaa);
  // into a sliced view (nonzero byteOffset) at an offset
  const backing = new ArrayBuffer(bytes.length + 64);
  const sliced = new Uint8Array(backing, 13, bytes.length + 30);
  const view2 = encodeMessage(message, options, sliced, 5);
  expect(toHex(view2)).toBe(toHex(bytes));
  expect(toHex(new Uint8Array(backing, 18, bytes.length))).toBe(toHex(bytes));
  // decode from a sliced view at an offset
  expect(decodeMessage(sliced, options, 5)).toEqual(message);
  return bytes;
}
