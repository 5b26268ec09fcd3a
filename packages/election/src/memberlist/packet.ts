/**
 * memberlist's UDP packet as v0.5.1 writes and reads it (net.go rawSendMsgPacket / ingestPacket / handleCommand):
 *
 *   [244][label length][label]              optional label header (label 1-255 bytes)
 *   [version][nonce 12][AES-GCM sealed]     when encryption is on; the label is the additional data
 *   [12][CRC-32 IEEE, big-endian]           optional checksum of what follows (sent to peers speaking protocol 5)
 *   [9]{Algo: 0, Buf: LZW}                  optional compression, used only when it makes the packet smaller
 *   [7][count][u16 lengths...][messages]    a compound of several messages, or one message
 *
 * Pure functions over Uint8Array; decoders check bounds before every read and throw only {@link CodecError}.
 */
import { CodecError } from '../errors.js';
import { crc32 } from './crc32.js';
import { lzwCompress, lzwDecompress } from './lzw.js';
import { COMPRESS, decodeMlMessage, type MlMessage, MlType, readStruct, writeStruct } from './messages.js';
import { ByteWriter, MsgReader } from './msgpack.js';
import { type MlEncryptionVersion, mlDecrypt, mlEncrypt } from './security.js';

/** Longest label memberlist accepts (LabelMaxSize). */
export const ML_LABEL_MAX = 255;
/** Most messages in one compound (the count is one byte). */
export const ML_COMPOUND_MAX = 255;
/** Largest decompressed packet accepted (a UDP datagram is at most 64 KiB; LZW cannot legitimately exceed this much). */
export const ML_MAX_DECOMPRESSED_PACKET = 1 << 20;
/** Deepest nesting of compound/compress envelopes accepted (memberlist itself sends at most compress(compound)). */
const MAX_ENVELOPE_DEPTH = 4;

const encoder = new TextEncoder();

/** Prefix `rest` with memberlist's label header; an empty label adds nothing. */
export function addMlLabel(label: string, rest: Uint8Array): Uint8Array {
  if (label === '') return rest;
  const l = encoder.encode(label);
  if (l.length > ML_LABEL_MAX) throw new CodecError('bad-label', `memberlist: label of ${l.length} bytes is over 255`);
  const out = new Uint8Array(2 + l.length + rest.length);
  out[0] = MlType.hasLabel;
  out[1] = l.length;
  out.set(l, 2);
  out.set(rest, 2 + l.length);
  return out;
}

/**
 * Split memberlist's label header off `buf` (RemoveLabelHeaderFromPacket): `label` is '' when there is none.
 * Throws `truncated` or `bad-label` (empty label) as memberlist refuses them.
 */
export function splitMlLabel(buf: Uint8Array): { label: string; rest: Uint8Array } {
  if (buf.length === 0 || buf[0] !== MlType.hasLabel) return { label: '', rest: buf };
  if (buf.length < 2) throw new CodecError('truncated', 'memberlist: label header truncated', 1);
  const size = buf[1] as number;
  if (size < 1) throw new CodecError('bad-label', 'memberlist: label header cannot be empty when present', 1);
  if (buf.length < 2 + size) throw new CodecError('truncated', 'memberlist: label truncated', 2);
  return { label: new TextDecoder().decode(buf.subarray(2, 2 + size)), rest: buf.subarray(2 + size) };
}

/** memberlist's makeCompoundMessage: `[7][count][u16 length each][messages]`. */
export function makeMlCompound(messages: readonly Uint8Array[]): Uint8Array {
  if (messages.length > ML_COMPOUND_MAX)
    throw new CodecError('too-large', `memberlist: ${messages.length} messages in a compound`);
  const w = new ByteWriter();
  w.u8(MlType.compound);
  w.u8(messages.length);
  for (const m of messages) {
    if (m.length > 0xffff) throw new CodecError('too-large', `memberlist: compound part of ${m.length} bytes`);
    w.u16(m.length);
  }
  for (const m of messages) w.bytes(m);
  return w.finish();
}

/**
 * memberlist's decodeCompoundMessage over the bytes after the compound type byte: the parts that fit, and how many
 * were truncated (memberlist handles the parts and logs the truncation).
 */
export function splitMlCompound(buf: Uint8Array): { parts: Uint8Array[]; truncated: number } {
  if (buf.length < 1) throw new CodecError('truncated', 'memberlist: missing compound length byte', 0);
  const n = buf[0] as number;
  if (buf.length < 1 + n * 2) throw new CodecError('truncated', 'memberlist: truncated compound length slice', 1);
  const parts: Uint8Array[] = [];
  let off = 1 + n * 2;
  for (let i = 0; i < n; i++) {
    const len = ((buf[1 + i * 2] as number) << 8) | (buf[2 + i * 2] as number);
    if (buf.length - off < len) return { parts, truncated: n - i };
    parts.push(buf.subarray(off, off + len));
    off += len;
  }
  return { parts, truncated: 0 };
}

/** memberlist's compressPayload: `[9]` and the msgpack `compress{Algo: 0 (LZW), Buf}`. */
export function compressMl(payload: Uint8Array): Uint8Array {
  const w = new ByteWriter();
  w.u8(MlType.compress);
  writeStruct(w, COMPRESS, { algo: 0, buf: lzwCompress(payload) });
  return w.finish();
}

/** The payload of a compress body (the bytes after the type byte); `bad-value` for an algorithm other than LZW. */
export function decompressMl(body: Uint8Array, maxOutput: number): Uint8Array {
  const c = readStruct<{ algo: number; buf: Uint8Array | null }>(new MsgReader(body), COMPRESS, 'compress');
  if (c.algo !== 0) throw new CodecError('bad-value', `memberlist: unknown compression algorithm ${c.algo}`);
  return lzwDecompress(c.buf ?? new Uint8Array(0), maxOutput);
}

/** Prefix `[12][crc32]` (sent to peers whose protocol max is 5 or more). */
export function addMlCrc(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = MlType.hasCrc;
  new DataView(out.buffer).setUint32(1, crc32(payload));
  out.set(payload, 5);
  return out;
}

/** How to seal and open packets: the cluster's label and keyring. */
export interface MlPacketSecurity {
  /** The cluster's label ('' for none, MetalLB's setting). */
  label: string;
  /** Installed keys, primary first; empty when encryption is off. */
  keys: readonly Uint8Array[];
  /** Refuse unencrypted packets when keys are set (memberlist's GossipVerifyIncoming, default true). */
  verifyIncoming?: boolean;
}

/** Options of {@link sealMlPacket}. */
export interface MlSealOptions extends MlPacketSecurity {
  /** Compress when it makes the packet smaller (memberlist's EnableCompression; LAN default true). */
  compress: boolean;
  /** Add the CRC header (the target's protocol max is 5 or more, and memberlist knows the target). */
  crc: boolean;
  /** Encryption version (1 unless speaking protocol 1). */
  encryptionVersion?: MlEncryptionVersion;
  /** Nonce for the encryption (tests); random when omitted. */
  nonce?: Uint8Array;
}

/**
 * Build one UDP packet from encoded messages (more than one becomes a compound), as memberlist's sendMsg and
 * rawSendMsgPacket do: compound, compress if smaller, CRC, encrypt, label.
 */
export function sealMlPacket(messages: readonly Uint8Array[], o: MlSealOptions): Uint8Array {
  if (messages.length === 0) throw new CodecError('bad-value', 'memberlist: a packet needs a message');
  let msg = messages.length === 1 ? (messages[0] as Uint8Array) : makeMlCompound(messages);
  if (o.compress) {
    const c = compressMl(msg);
    if (c.length < msg.length) msg = c;
  }
  if (o.crc) msg = addMlCrc(msg);
  if (o.keys.length > 0) {
    msg = mlEncrypt(o.encryptionVersion ?? 1, o.keys[0] as Uint8Array, msg, encoder.encode(o.label), o.nonce);
  }
  return addMlLabel(o.label, msg);
}

/** What {@link openMlPacket} found in a packet. */
export interface MlOpenedPacket {
  /** Every message, compounds and compression unwrapped, in order. */
  messages: MlMessage[];
  /** Compound parts memberlist would report as truncated. */
  truncated: number;
  /** True when the packet was encrypted. */
  encrypted: boolean;
  /** True when it carried a valid CRC. */
  checksummed: boolean;
  /** True when some part was compressed. */
  compressed: boolean;
}

/**
 * Open a UDP packet as memberlist's ingestPacket does: the label must equal `label` (`bad-label`), encrypted packets must
 * open with a key (`unauthenticated`; plaintext is refused while `verifyIncoming`), a CRC must match (`bad-checksum`),
 * then compounds and compression are unwrapped. Any undecodable part throws: the whole packet is dropped.
 */
export function openMlPacket(buf: Uint8Array, sec: MlPacketSecurity): MlOpenedPacket {
  const { label, rest } = splitMlLabel(buf);
  if (label !== sec.label)
    throw new CodecError('bad-label', `memberlist: packet label "${label}" is not "${sec.label}"`);
  let payload = rest;
  let encrypted = false;
  if (sec.keys.length > 0) {
    try {
      payload = mlDecrypt(sec.keys, rest, encoder.encode(label));
      encrypted = true;
    } catch (e) {
      if (sec.verifyIncoming ?? true) {
        // Plaintext, a version byte above 1, a short payload or the wrong key: all one reason to the receiver.
        throw e instanceof CodecError && e.code !== 'unauthenticated'
          ? new CodecError('unauthenticated', `memberlist: packet does not decrypt: ${e.message}`, e.offset)
          : e;
      }
    }
  }
  let checksummed = false;
  if (payload.length >= 5 && payload[0] === MlType.hasCrc) {
    const expected = new DataView(payload.buffer, payload.byteOffset + 1, 4).getUint32(0);
    payload = payload.subarray(5);
    if (crc32(payload) !== expected) throw new CodecError('bad-checksum', 'memberlist: packet checksum mismatch', 1);
    checksummed = true;
  }
  const out: MlOpenedPacket = { messages: [], truncated: 0, encrypted, checksummed, compressed: false };
  unwrap(payload, out, 0);
  return out;
}

function unwrap(buf: Uint8Array, out: MlOpenedPacket, depth: number): void {
  if (buf.length < 1) throw new CodecError('truncated', 'memberlist: missing message type byte', 0);
  const t = buf[0] as number;
  if (t === MlType.compound || t === MlType.compress) {
    if (depth >= MAX_ENVELOPE_DEPTH) throw new CodecError('too-large', 'memberlist: envelopes nested too deep', 0);
    if (t === MlType.compress) {
      out.compressed = true;
      unwrap(decompressMl(buf.subarray(1), ML_MAX_DECOMPRESSED_PACKET), out, depth + 1);
      return;
    }
    const { parts, truncated } = splitMlCompound(buf.subarray(1));
    out.truncated += truncated;
    for (const p of parts) unwrap(p, out, depth + 1);
    return;
  }
  out.messages.push(decodeMlMessage(buf));
}
