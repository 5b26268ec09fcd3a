/**
 * The wire format of @ingot/election: a compact binary codec, pure functions over Uint8Array.
 *
 * Packet (one UDP datagram, or one TCP frame body): `[0x49 'I'][version 1][count u8]` then `count` messages, each
 * `[type u8][body length varint][body]`. Integers are big-endian; strings are `[length u8][UTF-8]`; addresses are
 * `[family 4|6][4|16 bytes][port u16]`; labels are `[count u8]` then `[key string][value string]` pairs.
 */
import { CodecError } from './errors.js';
import { formatIp, parseIp } from './ip.js';

/** First byte of every plaintext packet. */
export const PACKET_MAGIC = 0x49;
/** Current wire version (second byte). */
export const WIRE_VERSION = 1;
/** Most messages one packet may carry. */
export const MAX_MESSAGES_PER_PACKET = 255;
/** Largest body a single message may declare (bounds allocation on decode). */
export const MAX_MESSAGE_BODY = 1 << 24;

/** Numeric message type codes on the wire. */
export const MessageType = {
  ping: 1,
  pingReq: 2,
  ack: 3,
  nack: 4,
  suspect: 5,
  alive: 6,
  dead: 7,
  pushPull: 8,
} as const;

/** A transport address: IP text and UDP/TCP port. */
export interface Address {
  /** IPv4 or IPv6 text. */
  host: string;
  /** Port, 0-65535. */
  port: number;
}

/** Small per-node metadata, string to string. */
export type Labels = Readonly<Record<string, string>>;

/** Member states as seen by one node. `left` is a graceful leave, `dead` a failure declaration. */
export type MemberStatus = 'alive' | 'suspect' | 'dead' | 'left';

/** One member as carried in a push-pull state exchange. */
export interface MemberRecord {
  name: string;
  address: Address;
  incarnation: number;
  status: MemberStatus;
  labels: Labels;
}

/** Direct probe: "are you `target`? answer with ack(seq)". */
export interface PingMessage {
  type: 'ping';
  seq: number;
  target: string;
  source: string;
}
/** Ask the receiver to probe `target` at `targetAddress` and forward the ack (or a nack) to the sender. */
export interface PingReqMessage {
  type: 'ping-req';
  seq: number;
  target: string;
  targetAddress: Address;
  source: string;
  nack: boolean;
}
/** Positive answer to a ping or an indirect ping. */
export interface AckMessage {
  type: 'ack';
  seq: number;
}
/** An intermediary could not reach the target of an indirect ping in time. */
export interface NackMessage {
  type: 'nack';
  seq: number;
}
/** `from` suspects `node` at `incarnation`. */
export interface SuspectMessage {
  type: 'suspect';
  incarnation: number;
  node: string;
  from: string;
}
/** `node` is alive at `incarnation` with this address and labels. */
export interface AliveMessage {
  type: 'alive';
  incarnation: number;
  node: string;
  address: Address;
  labels: Labels;
}
/** `from` declares `node` dead at `incarnation`; `from === node` is a graceful leave. */
export interface DeadMessage {
  type: 'dead';
  incarnation: number;
  node: string;
  from: string;
}
/** Full state exchange (TCP), on join and periodically. */
export interface PushPullMessage {
  type: 'push-pull';
  join: boolean;
  /** Name of the sending member. */
  source: string;
  members: MemberRecord[];
}

/** Any protocol message. */
export type Message =
  | PingMessage
  | PingReqMessage
  | AckMessage
  | NackMessage
  | SuspectMessage
  | AliveMessage
  | DeadMessage
  | PushPullMessage;

/** A decoded packet: the messages it carried, in order. */
export interface Packet {
  messages: Message[];
}

const STATUS_CODES: Record<MemberStatus, number> = { alive: 0, suspect: 1, dead: 2, left: 3 };
const STATUS_NAMES: MemberStatus[] = ['alive', 'suspect', 'dead', 'left'];
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function strLen(s: string, what: string): number {
  const n = utf8.encode(s).length;
  if (n > 255) throw new CodecError('too-large', `${what} is ${n} bytes, at most 255`);
  return n;
}

function u32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new CodecError('bad-value', `${what} must be a u32`);
  return v;
}

function varintLength(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function addressLength(a: Address): number {
  return 1 + parseIp(a.host).length + 2;
}

function labelsLength(l: Labels): number {
  const keys = Object.keys(l);
  if (keys.length > 255) throw new CodecError('too-large', `${keys.length} labels, at most 255`);
  let n = 1;
  for (const k of keys) n += 2 + strLen(k, 'label key') + strLen(l[k]!, 'label value');
  return n;
}

function recordLength(r: MemberRecord): number {
  return 1 + strLen(r.name, 'member name') + addressLength(r.address) + 4 + 1 + labelsLength(r.labels);
}

function bodyLength(m: Message): number {
  switch (m.type) {
    case 'ping':
      return 4 + 1 + strLen(m.target, 'target') + 1 + strLen(m.source, 'source');
    case 'ping-req':
      return 4 + 1 + strLen(m.target, 'target') + addressLength(m.targetAddress) + 1 + strLen(m.source, 'source') + 1;
    case 'ack':
    case 'nack':
      return 4;
    case 'suspect':
    case 'dead':
      return 4 + 1 + strLen(m.node, 'node') + 1 + strLen(m.from, 'from');
    case 'alive':
      return 4 + 1 + strLen(m.node, 'node') + addressLength(m.address) + labelsLength(m.labels);
    case 'push-pull': {
      let n = 1 + 1 + strLen(m.source, 'source') + varintLength(m.members.length);
      for (const r of m.members) n += recordLength(r);
      return n;
    }
    default:
      throw new CodecError('unknown-type', `unknown message type ${(m as { type: unknown }).type}`);
  }
}

/**
 * Bytes {@link encodeMessage} will write for `m`, including its type and length prefix.
 * @param m - a message
 * @returns byte count
 * @throws {@link CodecError} if the message cannot be encoded
 */
export function messageEncodingLength(m: Message): number {
  const b = bodyLength(m);
  return 1 + varintLength(b) + b;
}

/**
 * Bytes {@link encodePacket} will write for `p`.
 * @param p - a packet
 * @returns byte count
 * @throws {@link CodecError} if the packet cannot be encoded
 */
export function packetEncodingLength(p: Packet): number {
  let n = 3;
  for (const m of p.messages) n += messageEncodingLength(m);
  return n;
}

class Writer {
  private readonly view: DataView;
  offset: number;
  constructor(
    readonly buf: Uint8Array,
    offset: number,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.offset = offset;
  }
  u8(v: number) {
    this.view.setUint8(this.offset, v);
    this.offset += 1;
  }
  u16(v: number) {
    this.view.setUint16(this.offset, v);
    this.offset += 2;
  }
  u32(v: number) {
    this.view.setUint32(this.offset, v);
    this.offset += 4;
  }
  varint(v: number) {
    while (v >= 0x80) {
      this.u8((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.u8(v);
  }
  bytes(b: Uint8Array) {
    this.buf.set(b, this.offset);
    this.offset += b.length;
  }
  str(s: string) {
    const b = utf8.encode(s);
    this.u8(b.length);
    this.bytes(b);
  }
  address(a: Address) {
    if (!Number.isInteger(a.port) || a.port < 0 || a.port > 0xffff)
      throw new CodecError('bad-value', 'port must be a u16');
    const ip = parseIp(a.host);
    this.u8(ip.length === 4 ? 4 : 6);
    this.bytes(ip);
    this.u16(a.port);
  }
  labels(l: Labels) {
    const keys = Object.keys(l);
    this.u8(keys.length);
    for (const k of keys) {
      this.str(k);
      this.str(l[k]!);
    }
  }
}

function writeBody(w: Writer, m: Message): void {
  switch (m.type) {
    case 'ping':
      w.u32(u32(m.seq, 'seq'));
      w.str(m.target);
      w.str(m.source);
      return;
    case 'ping-req':
      w.u32(u32(m.seq, 'seq'));
      w.str(m.target);
      w.address(m.targetAddress);
      w.str(m.source);
      w.u8(m.nack ? 1 : 0);
      return;
    case 'ack':
    case 'nack':
      w.u32(u32(m.seq, 'seq'));
      return;
    case 'suspect':
    case 'dead':
      w.u32(u32(m.incarnation, 'incarnation'));
      w.str(m.node);
      w.str(m.from);
      return;
    case 'alive':
      w.u32(u32(m.incarnation, 'incarnation'));
      w.str(m.node);
      w.address(m.address);
      w.labels(m.labels);
      return;
    case 'push-pull':
      w.u8(m.join ? 1 : 0);
      w.str(m.source);
      w.varint(m.members.length);
      for (const r of m.members) {
        w.str(r.name);
        w.address(r.address);
        w.u32(u32(r.incarnation, 'incarnation'));
        const code = STATUS_CODES[r.status];
        if (code === undefined) throw new CodecError('bad-state', `unknown member status ${String(r.status)}`);
        w.u8(code);
        w.labels(r.labels);
      }
      return;
  }
}

function writeMessage(w: Writer, m: Message): void {
  const len = bodyLength(m);
  w.u8(MessageType[m.type === 'ping-req' ? 'pingReq' : m.type === 'push-pull' ? 'pushPull' : m.type]);
  w.varint(len);
  const start = w.offset;
  writeBody(w, m);
  if (w.offset - start !== len) throw new CodecError('bad-length', 'internal: body length mismatch');
}

/**
 * Encodes one message (type, length, body). Use {@link encodePacket} for what goes on the wire.
 * @param m - the message
 * @returns its bytes
 * @throws {@link CodecError} on out-of-range values
 */
export function encodeMessage(m: Message): Uint8Array {
  const out = new Uint8Array(messageEncodingLength(m));
  writeMessage(new Writer(out, 0), m);
  return out;
}

/**
 * Encodes a packet: header then each message.
 * @param p - the packet (at most 255 messages)
 * @returns its bytes
 * @throws {@link CodecError} on out-of-range values
 */
export function encodePacket(p: Packet): Uint8Array {
  if (p.messages.length > MAX_MESSAGES_PER_PACKET) throw new CodecError('too-large', 'more than 255 messages');
  const out = new Uint8Array(packetEncodingLength(p));
  const w = new Writer(out, 0);
  w.u8(PACKET_MAGIC);
  w.u8(WIRE_VERSION);
  w.u8(p.messages.length);
  for (const m of p.messages) writeMessage(w, m);
  return out;
}

/**
 * Builds a packet from already-encoded messages (from {@link encodeMessage}); used to piggyback queued broadcasts
 * without re-encoding them.
 * @param encoded - encoded messages, at most 255
 * @returns the packet bytes
 */
export function assemblePacket(encoded: readonly Uint8Array[]): Uint8Array {
  if (encoded.length > MAX_MESSAGES_PER_PACKET) throw new CodecError('too-large', 'more than 255 messages');
  let n = 3;
  for (const e of encoded) n += e.length;
  const out = new Uint8Array(n);
  out[0] = PACKET_MAGIC;
  out[1] = WIRE_VERSION;
  out[2] = encoded.length;
  let o = 3;
  for (const e of encoded) {
    out.set(e, o);
    o += e.length;
  }
  return out;
}

class Reader {
  private readonly view: DataView;
  offset: number;
  constructor(
    readonly buf: Uint8Array,
    readonly end: number,
    offset = 0,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.offset = offset;
  }
  need(n: number, what: string) {
    if (this.offset + n > this.end) {
      throw new CodecError('truncated', `need ${n} byte(s) for ${what}, ${this.end - this.offset} left`, this.offset);
    }
  }
  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.offset++);
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.offset);
    this.offset += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.offset);
    this.offset += 4;
    return v;
  }
  varint(what: string): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 4; i++) {
      const b = this.u8(what);
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return v;
      mul *= 128;
    }
    throw new CodecError('bad-length', `${what} varint longer than 4 bytes`, this.offset);
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const b = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }
  str(what: string): string {
    const n = this.u8(`${what} length`);
    const at = this.offset;
    const b = this.bytes(n, what);
    try {
      return utf8Strict.decode(b);
    } catch {
      throw new CodecError('bad-utf8', `${what} is not valid UTF-8`, at);
    }
  }
  address(what: string): Address {
    const at = this.offset;
    const family = this.u8(`${what} family`);
    if (family !== 4 && family !== 6) throw new CodecError('bad-address', `${what} family ${family}`, at);
    const ip = this.bytes(family === 4 ? 4 : 16, what);
    const port = this.u16(`${what} port`);
    return { host: formatIp(ip), port };
  }
  labels(): Labels {
    const n = this.u8('label count');
    const out: Record<string, string> = {};
    for (let i = 0; i < n; i++) {
      const at = this.offset;
      const k = this.str('label key');
      if (Object.hasOwn(out, k) || k === '__proto__') throw new CodecError('bad-value', `duplicate label ${k}`, at);
      out[k] = this.str('label value');
    }
    return out;
  }
}

function readBody(r: Reader, type: number, at: number): Message {
  switch (type) {
    case MessageType.ping:
      return { type: 'ping', seq: r.u32('seq'), target: r.str('target'), source: r.str('source') };
    case MessageType.pingReq: {
      const seq = r.u32('seq');
      const target = r.str('target');
      const targetAddress = r.address('target address');
      const source = r.str('source');
      const flag = r.u8('nack flag');
      if (flag > 1) throw new CodecError('bad-value', `nack flag ${flag}`, r.offset - 1);
      return { type: 'ping-req', seq, target, targetAddress, source, nack: flag === 1 };
    }
    case MessageType.ack:
      return { type: 'ack', seq: r.u32('seq') };
    case MessageType.nack:
      return { type: 'nack', seq: r.u32('seq') };
    case MessageType.suspect:
    case MessageType.dead:
      return {
        type: type === MessageType.suspect ? 'suspect' : 'dead',
        incarnation: r.u32('incarnation'),
        node: r.str('node'),
        from: r.str('from'),
      };
    case MessageType.alive:
      return {
        type: 'alive',
        incarnation: r.u32('incarnation'),
        node: r.str('node'),
        address: r.address('address'),
        labels: r.labels(),
      };
    case MessageType.pushPull: {
      const flag = r.u8('join flag');
      if (flag > 1) throw new CodecError('bad-value', `join flag ${flag}`, r.offset - 1);
      const source = r.str('source');
      const count = r.varint('member count');
      // every record takes at least 13 bytes: refuse counts the body cannot hold before allocating anything
      if (count * 13 > r.end - r.offset)
        throw new CodecError('bad-length', `member count ${count} too large`, r.offset);
      const members: MemberRecord[] = [];
      for (let i = 0; i < count; i++) {
        const name = r.str('member name');
        const address = r.address('member address');
        const incarnation = r.u32('incarnation');
        const sat = r.offset;
        const status = STATUS_NAMES[r.u8('status')];
        if (!status) throw new CodecError('bad-state', 'unknown member status', sat);
        members.push({ name, address, incarnation, status, labels: r.labels() });
      }
      return { type: 'push-pull', join: flag === 1, source, members };
    }
    default:
      throw new CodecError('unknown-type', `unknown message type ${type}`, at);
  }
}

function readMessage(r: Reader): Message {
  const at = r.offset;
  const type = r.u8('message type');
  const len = r.varint('message length');
  if (len > MAX_MESSAGE_BODY) throw new CodecError('too-large', `message body ${len} bytes`, at);
  r.need(len, 'message body');
  const body = new Reader(r.buf, r.offset + len, r.offset);
  const m = readBody(body, type, at);
  if (body.offset !== r.offset + len)
    throw new CodecError('trailing-bytes', 'message body longer than its fields', body.offset);
  r.offset += len;
  return m;
}

/**
 * Decodes one message as written by {@link encodeMessage}; the whole buffer must be consumed.
 * @param bytes - encoded message
 * @returns the message
 * @throws {@link CodecError} (and nothing else) on any malformed input
 */
export function decodeMessage(bytes: Uint8Array): Message {
  const r = new Reader(bytes, bytes.length);
  const m = readMessage(r);
  if (r.offset !== bytes.length) throw new CodecError('trailing-bytes', 'bytes after the message', r.offset);
  return m;
}

/**
 * Decodes a packet as written by {@link encodePacket}; the whole buffer must be consumed.
 * @param bytes - the datagram or frame body
 * @returns the packet
 * @throws {@link CodecError} (and nothing else) on any malformed input
 */
export function decodePacket(bytes: Uint8Array): Packet {
  const r = new Reader(bytes, bytes.length);
  const magic = r.u8('magic');
  if (magic !== PACKET_MAGIC) throw new CodecError('bad-magic', `magic 0x${magic.toString(16)}`, 0);
  const version = r.u8('version');
  if (version !== WIRE_VERSION) throw new CodecError('bad-version', `wire version ${version}`, 1);
  const count = r.u8('message count');
  const messages: Message[] = [];
  for (let i = 0; i < count; i++) messages.push(readMessage(r));
  if (r.offset !== bytes.length) throw new CodecError('trailing-bytes', 'bytes after the last message', r.offset);
  return { messages };
}
