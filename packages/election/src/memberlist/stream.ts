/**
 * memberlist's TCP streams (v0.5.1 net.go rawSendMsgStream / readStream / sendLocalState / readRemoteState): one
 * message per direction, without a length prefix unless encrypted.
 *
 *   [244][length][label]                    label header, written by the dialer only (the answer carries none)
 *   [10][u32 length][version][nonce][sealed] when encryption is on; the additional data is `[10][length]` ‖ label
 *   [9]{Algo: 0, Buf: LZW}                  when compression is on (always, whatever the size)
 *   [6]{Join, Nodes, UserStateLen} nodes... user state     push-pull
 *   [8]{UserMsgLen} bytes                   a user message (SendReliable)
 *   [0]{ping} / [2]{ack} / [13]{Error}      TCP ping, its ack, an error answer
 *
 * {@link readMlStream} throws `truncated` while the bytes so far are not a whole message: a reader keeps reading until it
 * gets a message, another error, or its own byte or time limit.
 */
import { CodecError } from '../errors.js';
import {
  decodeMlMessage,
  encodeMlMessage,
  type MlAck,
  type MlErr,
  type MlNodeState,
  type MlPing,
  MlType,
  NODE_STATE,
  PUSH_PULL_HEADER,
  readStruct,
  USER_MSG_HEADER,
  writeStruct,
} from './messages.js';
import { ByteWriter, MsgReader } from './msgpack.js';
import { addMlLabel, compressMl, decompressMl, type MlPacketSecurity, splitMlLabel } from './packet.js';
import { type MlEncryptionVersion, mlDecrypt, mlEncrypt, mlEncryptedLength } from './security.js';

/** memberlist's maxPushStateBytes: the largest encrypted stream (and the largest decompressed one here). */
export const ML_MAX_STREAM_BYTES = 20 * 1024 * 1024;

/** A push-pull exchange: this side's node states and delegate user state. */
export interface MlPushPull {
  type: 'push-pull';
  join: boolean;
  nodes: MlNodeState[];
  /** Delegate state (memberlist's LocalState); null when there is none. */
  userState: Uint8Array | null;
}

/** A user message sent over a stream (memberlist's SendReliable). */
export interface MlStreamUser {
  type: 'user';
  payload: Uint8Array;
}

/** Every message a memberlist stream carries. */
export type MlStreamMessage = MlPushPull | MlStreamUser | MlPing | MlAck | MlErr;

/** Encode a stream message's plaintext: its type byte and body. */
export function encodeMlStreamMessage(m: MlStreamMessage): Uint8Array {
  const w = new ByteWriter();
  if (m.type === 'push-pull') {
    w.u8(MlType.pushPull);
    const userLen = m.userState?.length ?? 0;
    writeStruct(w, PUSH_PULL_HEADER, { nodes: m.nodes.length, userStateLen: userLen, join: m.join });
    for (const n of m.nodes) writeStruct(w, NODE_STATE, n);
    if (m.userState) w.bytes(m.userState);
    return w.finish();
  }
  if (m.type === 'user') {
    w.u8(MlType.user);
    writeStruct(w, USER_MSG_HEADER, { userMsgLen: m.payload.length });
    w.bytes(m.payload);
    return w.finish();
  }
  return encodeMlMessage(m);
}

/** Options of {@link sealMlStream}. */
export interface MlStreamSealOptions {
  label: string;
  /** Installed keys, primary first; empty when encryption is off. */
  keys: readonly Uint8Array[];
  /** memberlist's EnableCompression. */
  compress: boolean;
  /** Write the label header (true for the side that dialed; an answer on an accepted stream has none). */
  labelHeader: boolean;
  encryptionVersion?: MlEncryptionVersion;
  /** Nonce for the encryption (tests); random when omitted. */
  nonce?: Uint8Array;
}

/** Wrap a stream message's plaintext as memberlist writes it: compression, encryption, label header. */
export function sealMlStream(plain: Uint8Array, o: MlStreamSealOptions): Uint8Array {
  let buf = o.compress ? compressMl(plain) : plain;
  if (o.keys.length > 0) {
    const version = o.encryptionVersion ?? 1;
    const header = new Uint8Array(5);
    header[0] = MlType.encrypt;
    new DataView(header.buffer).setUint32(1, mlEncryptedLength(version, buf.length));
    const label = new TextEncoder().encode(o.label);
    const aad = new Uint8Array(5 + label.length);
    aad.set(header);
    aad.set(label, 5);
    const sealed = mlEncrypt(version, o.keys[0] as Uint8Array, buf, aad, o.nonce);
    buf = new Uint8Array(5 + sealed.length);
    buf.set(header);
    buf.set(sealed, 5);
  }
  return o.labelHeader ? addMlLabel(o.label, buf) : buf;
}

/** Options of {@link readMlStream}. */
export interface MlStreamReadOptions extends MlPacketSecurity {
  /** True on the accepting side: a label header may lead and must carry `label`. */
  labelHeader: boolean;
}

/** What {@link readMlStream} found. */
export interface MlStreamRead {
  message: MlStreamMessage;
  /** Bytes of the input the message took. */
  consumed: number;
  encrypted: boolean;
  compressed: boolean;
}

/**
 * Read one stream message from the bytes received so far. Throws {@link CodecError}: `truncated` when more bytes are
 * needed; `bad-label`, `unauthenticated` (wrong key, or plaintext while keys are set and verifyIncoming), `too-large`
 * (over {@link ML_MAX_STREAM_BYTES}), `unknown-type` and the body errors otherwise.
 */
export function readMlStream(input: Uint8Array, o: MlStreamReadOptions): MlStreamRead {
  let buf = input;
  let skipped = 0;
  if (input.length === 0) throw new CodecError('truncated', 'memberlist: empty stream', 0);
  if (o.labelHeader) {
    const { label, rest } = splitMlLabel(input);
    if (label !== o.label) throw new CodecError('bad-label', `memberlist: stream label "${label}" is not "${o.label}"`);
    skipped = input.length - rest.length;
    buf = rest;
  }
  if (buf.length < 1) throw new CodecError('truncated', 'memberlist: empty stream', skipped);
  let encrypted = false;
  let consumed: number | undefined;
  if (buf[0] === MlType.encrypt) {
    if (o.keys.length === 0) {
      throw new CodecError(
        'unauthenticated',
        'memberlist: stream is encrypted and encryption is not configured',
        skipped,
      );
    }
    if (buf.length < 5) throw new CodecError('truncated', 'memberlist: encrypted stream header', skipped);
    const len = new DataView(buf.buffer, buf.byteOffset + 1, 4).getUint32(0);
    if (len > ML_MAX_STREAM_BYTES)
      throw new CodecError('too-large', `memberlist: remote state of ${len} bytes`, skipped + 1);
    if (buf.length < 5 + len) throw new CodecError('truncated', 'memberlist: encrypted stream body', skipped + 5);
    const label = new TextEncoder().encode(o.label);
    const aad = new Uint8Array(5 + label.length);
    aad.set(buf.subarray(0, 5));
    aad.set(label, 5);
    consumed = skipped + 5 + len;
    buf = mlDecrypt(o.keys, buf.subarray(5, 5 + len), aad);
    if (buf.length < 1) throw new CodecError('truncated', 'memberlist: empty decrypted stream', consumed);
    encrypted = true;
  } else if (o.keys.length > 0 && (o.verifyIncoming ?? true)) {
    throw new CodecError(
      'unauthenticated',
      'memberlist: encryption is configured but the stream is not encrypted',
      skipped,
    );
  }
  let compressed = false;
  if (buf[0] === MlType.compress) {
    const r = new MsgReader(buf, 1);
    r.value(); // bounds: the whole compress struct must be here
    consumed ??= skipped + r.offset;
    buf = decompressMl(buf.subarray(1, r.offset), ML_MAX_STREAM_BYTES);
    if (buf.length < 1) throw new CodecError('truncated', 'memberlist: empty decompressed stream', 0);
    compressed = true;
  }
  const { message, end } = readBody(buf);
  return { message, consumed: consumed ?? skipped + end, encrypted, compressed };
}

function readBody(buf: Uint8Array): { message: MlStreamMessage; end: number } {
  const t = buf[0] as number;
  const r = new MsgReader(buf, 1);
  switch (t) {
    case MlType.pushPull: {
      const h = readStruct<{ nodes: number; userStateLen: number; join: boolean }>(
        r,
        PUSH_PULL_HEADER,
        'pushPullHeader',
      );
      if (h.nodes < 0 || h.userStateLen < 0) throw new CodecError('bad-value', 'memberlist: negative push-pull count');
      const nodes: MlNodeState[] = [];
      for (let i = 0; i < h.nodes; i++) nodes.push(readStruct<MlNodeState>(r, NODE_STATE, 'pushNodeState'));
      let userState: Uint8Array | null = null;
      if (h.userStateLen > 0) {
        if (r.remaining < h.userStateLen)
          throw new CodecError('truncated', 'memberlist: push-pull user state', r.offset);
        userState = buf.slice(r.offset, r.offset + h.userStateLen);
        r.offset += h.userStateLen;
      }
      return { message: { type: 'push-pull', join: h.join, nodes, userState }, end: r.offset };
    }
    case MlType.user: {
      const h = readStruct<{ userMsgLen: number }>(r, USER_MSG_HEADER, 'userMsgHeader');
      if (h.userMsgLen < 0) throw new CodecError('bad-value', 'memberlist: negative user message length');
      if (r.remaining < h.userMsgLen) throw new CodecError('truncated', 'memberlist: user message', r.offset);
      const payload = buf.slice(r.offset, r.offset + h.userMsgLen);
      return { message: { type: 'user', payload }, end: r.offset + h.userMsgLen };
    }
    case MlType.ping:
    case MlType.ack:
    case MlType.err: {
      r.value(); // bounds: the whole body must be here
      const message = decodeMlMessage(buf.subarray(0, r.offset)) as MlPing | MlAck | MlErr;
      return { message, end: r.offset };
    }
    default:
      throw new CodecError('unknown-type', `memberlist: stream message type ${t} not supported`, 0);
  }
}
