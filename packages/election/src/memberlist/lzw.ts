/**
 * LZW as Go's compress/lzw does it with `lzw.LSB` and literal width 8 (what memberlist's compressPayload uses): codes
 * packed least-significant bit first, clear code 256, end code 257, code width 9 growing to 12 bits; when the table is
 * full the writer emits a clear code and starts over. The encoder's output is byte-identical to Go's writer; the decoder
 * follows Go's reader (a stream without an end code is truncated) and stops at `maxOutput` bytes.
 */
import { CodecError } from '../errors.js';

const LIT_WIDTH = 8;
const CLEAR = 1 << LIT_WIDTH;
const EOF = CLEAR + 1;
const MAX_WIDTH = 12;
const MAX_CODE = (1 << MAX_WIDTH) - 1;

const TABLE_SIZE = 4 * (1 << 12);
const TABLE_MASK = TABLE_SIZE - 1;
/** Go's writer table (open addressing, entry = key << 12 | code, 0 = empty); reused, cleared per call. */
const table = new Uint32Array(TABLE_SIZE);

/** Compress `input` exactly as Go's `lzw.NewWriter(w, lzw.LSB, 8)` followed by Write and Close. */
export function lzwCompress(input: Uint8Array): Uint8Array {
  // at most 12 bits per input byte, plus clear, final code, end code and the partial byte
  const out = new Uint8Array(Math.ceil((input.length * 12 + 48) / 8) + 1);
  let o = 0;
  let bits = 0;
  let nBits = 0;
  let width = LIT_WIDTH + 1;
  let hi = EOF;
  let overflow = 1 << (LIT_WIDTH + 1);
  table.fill(0);
  const write = (code: number) => {
    bits |= code << nBits;
    nBits += width;
    while (nBits >= 8) {
      out[o++] = bits & 0xff;
      bits >>>= 8;
      nBits -= 8;
    }
  };
  /** Go's incHi: false when the table was full and got cleared (errOutOfCodes). */
  const incHi = (): boolean => {
    hi++;
    if (hi === overflow) {
      width++;
      overflow <<= 1;
    }
    if (hi === MAX_CODE) {
      write(CLEAR);
      width = LIT_WIDTH + 1;
      hi = EOF;
      overflow = CLEAR << 1;
      table.fill(0);
      return false;
    }
    return true;
  };
  write(CLEAR);
  if (input.length > 0) {
    let code = input[0] as number;
    outer: for (let i = 1; i < input.length; i++) {
      const literal = input[i] as number;
      const key = (code << 8) | literal; // < 2^20
      let hash = ((key >>> 12) ^ key) & TABLE_MASK;
      for (let t = table[hash] as number; t !== 0; t = table[hash] as number) {
        if (t >>> 12 === key) {
          code = t & MAX_CODE;
          continue outer;
        }
        hash = (hash + 1) & TABLE_MASK;
      }
      write(code);
      code = literal;
      if (!incHi()) continue;
      table[hash] = ((key << 12) | hi) >>> 0;
    }
    write(code);
    incHi();
  }
  write(EOF);
  if (nBits > 0) out[o++] = bits & 0xff;
  return out.slice(0, o);
}

/**
 * Decompress Go `lzw.LSB`/8 data. Throws {@link CodecError}: `truncated` when the data ends before the end code,
 * `bad-value` for an invalid code, `too-large` past `maxOutput` bytes.
 */
export function lzwDecompress(input: Uint8Array, maxOutput: number): Uint8Array {
  const prefix = new Uint16Array(1 << MAX_WIDTH);
  const suffix = new Uint8Array(1 << MAX_WIDTH);
  const INVALID = 0xffff;
  let out = new Uint8Array(Math.min(maxOutput, Math.max(64, input.length * 4)));
  let o = 0;
  const scratch = new Uint8Array(1 << MAX_WIDTH);
  let bits = 0;
  let nBits = 0;
  let pos = 0;
  let width = LIT_WIDTH + 1;
  let hi = EOF;
  let overflow = 1 << width;
  let last = INVALID;
  /** Makes room for `n` more output bytes (throws past `maxOutput`). */
  const reserve = (n: number) => {
    if (o + n > maxOutput) throw new CodecError('too-large', `lzw: output over ${maxOutput} bytes`, pos);
    if (o + n > out.length) {
      const next = new Uint8Array(Math.min(maxOutput, Math.max(out.length * 2, o + n)));
      next.set(out.subarray(0, o));
      out = next;
    }
  };
  // byte loops, not subarray + set: most strings are a few bytes, and a view per code is an allocation per code
  const emit = (src: Uint8Array, start: number, end: number) => {
    reserve(end - start);
    for (let i = start; i < end; i++) out[o++] = src[i] as number;
  };
  for (;;) {
    while (nBits < width) {
      if (pos >= input.length) throw new CodecError('truncated', 'lzw: data ends before the end code', pos);
      bits |= (input[pos++] as number) << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;
    if (code < CLEAR) {
      reserve(1);
      out[o++] = code;
      if (last !== INVALID) {
        suffix[hi] = code;
        prefix[hi] = last;
      }
    } else if (code === CLEAR) {
      width = LIT_WIDTH + 1;
      hi = EOF;
      overflow = 1 << width;
      last = INVALID;
      continue;
    } else if (code === EOF) {
      return out.slice(0, o);
    } else if (code <= hi) {
      let c = code;
      let i = scratch.length - 1;
      if (code === hi && last !== INVALID) {
        c = last;
        while (c >= CLEAR) c = prefix[c] as number;
        scratch[i--] = c;
        c = last;
      }
      while (c >= CLEAR) {
        scratch[i--] = suffix[c] as number;
        c = prefix[c] as number;
      }
      scratch[i] = c;
      emit(scratch, i, scratch.length);
      if (last !== INVALID) {
        suffix[hi] = c;
        prefix[hi] = last;
      }
    } else {
      throw new CodecError('bad-value', `lzw: invalid code ${code}`, pos);
    }
    last = code;
    hi++;
    if (hi >= overflow) {
      if (width === MAX_WIDTH) {
        last = INVALID;
        hi--;
      } else {
        width++;
        overflow = 1 << width;
      }
    }
  }
}
