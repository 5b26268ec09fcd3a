import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { CodecError, type CodecErrorCode } from '../errors.js';
import type { Keyring } from '../keyring.js';

/** First byte of a heartbeat frame (`'H'`). */
export const HEARTBEAT_MAGIC = 0x48;
/** Version of the heartbeat frame. */
export const HEARTBEAT_VERSION = 1;
/** Bytes of a plaintext frame: 4 header bytes, sender id (8), boot (u64), sequence (u64). */
export const HEARTBEAT_PLAIN_LENGTH = 28;
/** Bytes of a sealed frame: 4 header bytes, nonce (12), the 24 body bytes encrypted, GCM tag (16). */
export const HEARTBEAT_SEALED_LENGTH = 56;
/** Text mixed into the authenticated data, so no other sealed message of the cluster key opens as a heartbeat. */
export const HEARTBEAT_AAD_LABEL = 'ingot-heartbeat-v1';

/**
 * What a frame says: `heartbeat` (the owner is alive; `seq` grows by one per send interval), `probe` (are you there?
 * `seq` is a nonce), `ack` (yes: `seq` echoes the probe's nonce), `takeover` (the sender took the receiver's IPs over),
 * `released` (the sender gave them back: the receiver re-announces) and `leaving` (the sender, an owner stopping
 * gracefully, no longer owns its IPs from now on: its successors take them over at once). Type codes 1-6 in this
 * order; a receiver that predates `leaving` refuses it as `unknown-type` and waits for the gossip leave instead.
 */
export type HeartbeatFrameType = 'heartbeat' | 'probe' | 'ack' | 'takeover' | 'released' | 'leaving';

/** One heartbeat datagram, decoded. */
export interface HeartbeatFrame {
  /** What the frame says. */
  type: HeartbeatFrameType;
  /** The sender's id: 16 hex digits, the first 8 bytes of SHA-256 of its node name ({@link heartbeatSenderId}). */
  sender: string;
  /** The sender's boot: its wall clock in ms when its heartbeat thread started (a restart sends a larger one). */
  boot: number;
  /** Sequence number (heartbeat; takeover, released and leaving notices) or nonce (probe, ack); a safe integer. */
  seq: number;
}

/** @internal The crypto functions {@link writeHeartbeatFrame} and {@link readHeartbeatFrame} use (passed in, so both also run in the heartbeat thread). */
export interface FrameCrypto {
  createCipheriv: typeof createCipheriv;
  createDecipheriv: typeof createDecipheriv;
  randomBytes: typeof randomBytes;
}

/** @internal The result of {@link readHeartbeatFrame}: the frame, or why it was refused and where. */
export type FrameReadResult =
  | { ok: true; frame: HeartbeatFrame }
  | { ok: false; code: CodecErrorCode; message: string; offset: number };

/**
 * @internal Encodes a frame; sealed with AES-256-GCM under `keys[0]` when keys are given. Refers to nothing outside
 * itself (the heartbeat thread runs its source text).
 * @throws RangeError on a frame that cannot be encoded (callers validate; the public wrapper turns it into CodecError)
 */
export function writeHeartbeatFrame(
  frame: HeartbeatFrame,
  keys: readonly Uint8Array[] | undefined,
  crypto: FrameCrypto,
): Uint8Array {
  const types = ['heartbeat', 'probe', 'ack', 'takeover', 'released', 'leaving'];
  const type = types.indexOf(frame.type) + 1;
  if (type === 0) throw new RangeError(`unknown heartbeat frame type ${String(frame.type)}`);
  if (!/^[0-9a-f]{16}$/.test(frame.sender)) throw new RangeError('sender must be 16 lowercase hex digits');
  for (const [name, v] of [
    ['boot', frame.boot],
    ['seq', frame.seq],
  ] as const)
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a safe non-negative integer`);
  const body = new Uint8Array(24);
  const view = new DataView(body.buffer);
  for (let i = 0; i < 8; i++) body[i] = Number.parseInt(frame.sender.slice(2 * i, 2 * i + 2), 16);
  view.setUint32(8, Math.floor(frame.boot / 2 ** 32));
  view.setUint32(12, frame.boot >>> 0);
  view.setUint32(16, Math.floor(frame.seq / 2 ** 32));
  view.setUint32(20, frame.seq >>> 0);
  const sealed = keys !== undefined && keys.length > 0;
  const header = Uint8Array.of(0x48, 1, type, sealed ? 1 : 0);
  if (!sealed) {
    const out = new Uint8Array(28);
    out.set(header, 0);
    out.set(body, 4);
    return out;
  }
  const aad = new Uint8Array(4 + 18);
  aad.set(header, 0);
  for (let i = 0; i < 18; i++) aad[4 + i] = 'ingot-heartbeat-v1'.charCodeAt(i);
  const nonce = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', keys[0] as Uint8Array, nonce);
  c.setAAD(aad);
  const enc = c.update(body);
  c.final();
  const out = new Uint8Array(56);
  out.set(header, 0);
  out.set(nonce, 4);
  out.set(enc, 16);
  out.set(c.getAuthTag(), 40);
  return out;
}

/**
 * @internal Decodes a frame without throwing: checks length and header before every read; with keys, only a sealed
 * frame that one of them authenticates is accepted; without keys, a sealed frame is refused. Refers to nothing outside
 * itself (the heartbeat thread runs its source text).
 */
export function readHeartbeatFrame(
  bytes: Uint8Array,
  keys: readonly Uint8Array[] | undefined,
  crypto: FrameCrypto,
): FrameReadResult {
  const fail = (code: CodecErrorCode, message: string, offset: number): FrameReadResult => ({
    ok: false,
    code,
    message,
    offset,
  });
  if (bytes.length < 4) return fail('truncated', `heartbeat frame of ${bytes.length} bytes, header needs 4`, 0);
  if (bytes[0] !== 0x48) return fail('bad-magic', `not a heartbeat frame (first byte ${bytes[0]})`, 0);
  if (bytes[1] !== 1) return fail('bad-version', `heartbeat frame version ${bytes[1]}, expected 1`, 1);
  const typeCode = bytes[2] as number;
  const types = ['heartbeat', 'probe', 'ack', 'takeover', 'released', 'leaving'] as const;
  const type = types[typeCode - 1];
  if (type === undefined) return fail('unknown-type', `heartbeat frame type ${typeCode}`, 2);
  const flags = bytes[3] as number;
  if (flags > 1) return fail('bad-value', `heartbeat frame flags ${flags}`, 3);
  const sealed = flags === 1;
  const withKeys = keys !== undefined && keys.length > 0;
  if (sealed !== withKeys)
    return fail(
      'unauthenticated',
      sealed ? 'sealed heartbeat frame but no key configured' : 'plaintext heartbeat frame refused (encryption is on)',
      3,
    );
  const expected = sealed ? 56 : 28;
  if (bytes.length < expected)
    return fail('truncated', `heartbeat frame of ${bytes.length} bytes, expected ${expected}`, bytes.length);
  if (bytes.length > expected) return fail('trailing-bytes', `heartbeat frame longer than ${expected} bytes`, expected);
  let body: Uint8Array | undefined;
  if (!sealed) body = bytes.subarray(4, 28);
  else {
    const aad = new Uint8Array(4 + 18);
    aad.set(bytes.subarray(0, 4), 0);
    for (let i = 0; i < 18; i++) aad[4 + i] = 'ingot-heartbeat-v1'.charCodeAt(i);
    const nonce = bytes.subarray(4, 16);
    const enc = bytes.subarray(16, 40);
    const tag = bytes.subarray(40, 56);
    for (const key of keys as readonly Uint8Array[]) {
      try {
        const d = crypto.createDecipheriv('aes-256-gcm', key, nonce);
        d.setAAD(aad);
        d.setAuthTag(tag);
        const out = d.update(enc);
        d.final();
        body = new Uint8Array(out.buffer, out.byteOffset, out.length);
        break;
      } catch {
        // wrong key or tampered: try the next key
      }
    }
    if (body === undefined) return fail('unauthenticated', 'heartbeat frame failed authentication', 4);
  }
  const view = new DataView(body.buffer, body.byteOffset, 24);
  let sender = '';
  for (let i = 0; i < 8; i++) sender += (body[i] as number).toString(16).padStart(2, '0');
  const bootHi = view.getUint32(8);
  const seqHi = view.getUint32(16);
  const at = sealed ? 16 : 4;
  if (bootHi >= 2 ** 21) return fail('bad-value', 'boot beyond 2^53', at + 8);
  if (seqHi >= 2 ** 21) return fail('bad-value', 'sequence beyond 2^53', at + 16);
  return {
    ok: true,
    frame: { type, sender, boot: bootHi * 2 ** 32 + view.getUint32(12), seq: seqHi * 2 ** 32 + view.getUint32(20) },
  };
}

const nodeCrypto: FrameCrypto = { createCipheriv, createDecipheriv, randomBytes };

/**
 * Encodes a heartbeat frame: 28 bytes in plaintext, 56 bytes sealed with the keyring's primary key (AES-256-GCM, the
 * header and {@link HEARTBEAT_AAD_LABEL} authenticated).
 * @param frame - what to send
 * @param keyring - the cluster keyring when encryption is on
 * @throws {@link CodecError} (`bad-value`) for a type, sender or number that cannot be encoded
 */
export function encodeHeartbeatFrame(frame: HeartbeatFrame, keyring?: Keyring): Uint8Array {
  try {
    return writeHeartbeatFrame(frame, keyring?.allKeys, nodeCrypto);
  } catch (err) {
    throw new CodecError('bad-value', (err as Error).message);
  }
}

/**
 * Decodes a heartbeat frame, checking bounds before every read. With a keyring only sealed frames that a key of the
 * ring authenticates are accepted; without one, sealed frames are refused.
 * @param bytes - one received datagram
 * @param keyring - the cluster keyring when encryption is on
 * @throws {@link CodecError} with the reason and offset; nothing else
 */
export function decodeHeartbeatFrame(bytes: Uint8Array, keyring?: Keyring): HeartbeatFrame {
  const r = readHeartbeatFrame(bytes, keyring?.allKeys, nodeCrypto);
  if (!r.ok) throw new CodecError(r.code, r.message, r.offset);
  return r.frame;
}

/**
 * The id a node's heartbeats carry: the first 8 bytes of SHA-256 of its name, as 16 hex digits.
 * @param name - the node (memberlist member) name
 */
export function heartbeatSenderId(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 16);
}
