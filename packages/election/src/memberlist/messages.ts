/**
 * hashicorp/memberlist's messages (v0.5.1 net.go): the type byte and the msgpack body of each, encoded byte for byte as
 * memberlist encodes them (struct fields as a map in byte order of the Go field names, omitempty where Go has it) and
 * decoded leniently as go-msgpack decodes them (fields in any order, unknown fields skipped, missing fields zero).
 */
import { CodecError } from '../errors.js';
import {
  ByteWriter,
  isMap,
  MsgReader,
  type MsgValue,
  rawText,
  writeBool,
  writeInt,
  writeMapHeader,
  writeRaw,
  writeString,
  writeUint,
} from './msgpack.js';

/** memberlist's message type bytes (append-only in memberlist; part of the protocol). */
export const MlType = {
  ping: 0,
  indirectPing: 1,
  ack: 2,
  suspect: 3,
  alive: 4,
  dead: 5,
  pushPull: 6,
  compound: 7,
  user: 8,
  compress: 9,
  encrypt: 10,
  nack: 11,
  hasCrc: 12,
  err: 13,
  /** The label header's first byte (deliberately far from the others and from encryption versions). */
  hasLabel: 244,
} as const;

/** Protocol versions memberlist v0.5.1 understands (inclusive) and the one it speaks by default. */
export const ML_PROTOCOL_MIN = 1;
/** Highest protocol version memberlist v0.5.1 understands. */
export const ML_PROTOCOL_MAX = 5;
/** `ProtocolVersion2Compatible`: what DefaultLANConfig speaks. */
export const ML_PROTOCOL_DEFAULT = 2;
/** memberlist's MetaMaxSize: node meta longer than this is refused. */
export const ML_META_MAX = 512;

/** ping: sent straight to a node; `node` lets the target check it is the intended one. */
export interface MlPing {
  type: 'ping';
  seqNo: number;
  node: string;
  /** Where to reply (omitempty: absent when empty). */
  sourceAddr?: Uint8Array;
  sourcePort?: number;
  sourceNode?: string;
}

/** indirect ping request: "ping `target:port` (named `node`) for me". */
export interface MlIndirectPing {
  type: 'indirect-ping';
  seqNo: number;
  target: Uint8Array | null;
  port: number;
  node: string;
  /** True when the requester wants a nack if the target does not answer. */
  nack: boolean;
  sourceAddr?: Uint8Array;
  sourcePort?: number;
  sourceNode?: string;
}

/** ack: the answer to a ping, with an optional payload (memberlist's PingDelegate). */
export interface MlAck {
  type: 'ack';
  seqNo: number;
  payload: Uint8Array | null;
}

/** nack: an indirect ping's target did not answer in time. */
export interface MlNack {
  type: 'nack';
  seqNo: number;
}

/** suspect: `from` suspects `node` at `incarnation`. */
export interface MlSuspect {
  type: 'suspect';
  incarnation: number;
  node: string;
  from: string;
}

/** alive: a node (re)announces itself; `vsn` is pmin, pmax, pcur, dmin, dmax, dcur. */
export interface MlAlive {
  type: 'alive';
  incarnation: number;
  node: string;
  addr: Uint8Array | null;
  port: number;
  meta: Uint8Array | null;
  vsn: Uint8Array | null;
}

/** dead: `from` declares `node` dead; `from === node` is a graceful leave. */
export interface MlDead {
  type: 'dead';
  incarnation: number;
  node: string;
  from: string;
}

/** A user message in a packet: the bytes after the type byte. */
export interface MlUser {
  type: 'user';
  payload: Uint8Array;
}

/** An error a stream peer reports (errResp). */
export interface MlErr {
  type: 'err';
  error: string;
}

/** Every message that travels in a UDP packet (compound, compress and CRC are envelopes, see packet.ts). */
export type MlMessage = MlPing | MlIndirectPing | MlAck | MlNack | MlSuspect | MlAlive | MlDead | MlUser | MlErr;

/** A node's state in a push-pull exchange (pushNodeState). `state`: 0 alive, 1 suspect, 2 dead, 3 left. */
export interface MlNodeState {
  name: string;
  addr: Uint8Array | null;
  port: number;
  meta: Uint8Array | null;
  incarnation: number;
  state: number;
  vsn: Uint8Array | null;
}

/** The push-pull header (pushPullHeader). */
export interface MlPushPullHeader {
  nodes: number;
  userStateLen: number;
  join: boolean;
}

/** memberlist's NodeStateType values. */
export const MlNodeStateType = { alive: 0, suspect: 1, dead: 2, left: 3 } as const;

type Kind = 'uint8' | 'uint16' | 'uint32' | 'int' | 'bool' | 'string' | 'bytes';

/** One struct field: Go name, TypeScript name, kind, omitempty. */
type Field = readonly [go: string, ts: string, kind: Kind, omitEmpty?: boolean];

/** A Go struct: its fields, kept sorted by Go name (the order go-msgpack writes them). */
function struct(...fields: Field[]): readonly Field[] {
  return [...fields].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

const PING = struct(
  ['SeqNo', 'seqNo', 'uint32'],
  ['Node', 'node', 'string'],
  ['SourceAddr', 'sourceAddr', 'bytes', true],
  ['SourcePort', 'sourcePort', 'uint16', true],
  ['SourceNode', 'sourceNode', 'string', true],
);
const INDIRECT_PING = struct(
  ['SeqNo', 'seqNo', 'uint32'],
  ['Target', 'target', 'bytes'],
  ['Port', 'port', 'uint16'],
  ['Node', 'node', 'string'],
  ['Nack', 'nack', 'bool'],
  ['SourceAddr', 'sourceAddr', 'bytes', true],
  ['SourcePort', 'sourcePort', 'uint16', true],
  ['SourceNode', 'sourceNode', 'string', true],
);
const ACK = struct(['SeqNo', 'seqNo', 'uint32'], ['Payload', 'payload', 'bytes']);
const NACK = struct(['SeqNo', 'seqNo', 'uint32']);
const SUSPECT = struct(
  ['Incarnation', 'incarnation', 'uint32'],
  ['Node', 'node', 'string'],
  ['From', 'from', 'string'],
);
const ALIVE = struct(
  ['Incarnation', 'incarnation', 'uint32'],
  ['Node', 'node', 'string'],
  ['Addr', 'addr', 'bytes'],
  ['Port', 'port', 'uint16'],
  ['Meta', 'meta', 'bytes'],
  ['Vsn', 'vsn', 'bytes'],
);
/** dead has suspect's fields. */
const DEAD = SUSPECT;
const ERR = struct(['Error', 'error', 'string']);
/** pushPullHeader. */
export const PUSH_PULL_HEADER = struct(
  ['Nodes', 'nodes', 'int'],
  ['UserStateLen', 'userStateLen', 'int'],
  ['Join', 'join', 'bool'],
);
/** pushNodeState. */
export const NODE_STATE = struct(
  ['Name', 'name', 'string'],
  ['Addr', 'addr', 'bytes'],
  ['Port', 'port', 'uint16'],
  ['Meta', 'meta', 'bytes'],
  ['Incarnation', 'incarnation', 'uint32'],
  ['State', 'state', 'int'],
  ['Vsn', 'vsn', 'bytes'],
);
/** userMsgHeader (a user message over a stream). */
export const USER_MSG_HEADER = struct(['UserMsgLen', 'userMsgLen', 'int']);
/** compress: the LZW envelope. */
export const COMPRESS = struct(['Algo', 'algo', 'uint8'], ['Buf', 'buf', 'bytes']);

function isEmpty(kind: Kind, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (kind === 'string') return v === '';
  if (kind === 'bytes') return (v as Uint8Array).length === 0;
  if (kind === 'bool') return v === false;
  return v === 0;
}

/** Go field names' UTF-8 bytes, encoded once each (the field tables are constants, so this stays small). */
const fieldNames = new Map<string, Uint8Array>();
function fieldName(go: string): Uint8Array {
  let b = fieldNames.get(go);
  if (!b) {
    b = new TextEncoder().encode(go);
    fieldNames.set(go, b);
  }
  return b;
}

/** Append a struct's msgpack map to `w`. */
export function writeStruct(w: ByteWriter, fields: readonly Field[], value: object): void {
  const v = value as Record<string, unknown>;
  const present = fields.filter(([, ts, kind, omit]) => !(omit && isEmpty(kind, v[ts])));
  writeMapHeader(w, present.length);
  for (const [go, ts, kind] of present) {
    writeRaw(w, fieldName(go));
    const x = v[ts];
    switch (kind) {
      case 'uint8':
      case 'uint16':
      case 'uint32':
        writeUint(w, (x as number | undefined) ?? 0);
        break;
      case 'int':
        writeInt(w, (x as number | undefined) ?? 0);
        break;
      case 'bool':
        writeBool(w, x === true);
        break;
      case 'string':
        writeString(w, (x as string | undefined) ?? '');
        break;
      case 'bytes':
        writeRaw(w, (x as Uint8Array | null | undefined) ?? null);
        break;
    }
  }
}

const MAX: Record<'uint8' | 'uint16' | 'uint32', number> = { uint8: 0xff, uint16: 0xffff, uint32: 0xffffffff };

function fieldValue(go: string, kind: Kind, v: MsgValue): unknown {
  const bad = () => new CodecError('bad-value', `memberlist: field ${go} is not a ${kind}`);
  switch (kind) {
    case 'uint8':
    case 'uint16':
    case 'uint32':
      if (v === null) return 0;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX[kind]) throw bad();
      return v;
    case 'int':
      if (v === null) return 0;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw bad();
      return v;
    case 'bool':
      if (v === null) return false;
      if (typeof v !== 'boolean') throw bad();
      return v;
    case 'string':
      if (v === null) return '';
      if (!(v instanceof Uint8Array)) throw bad();
      return rawText(v, go);
    case 'bytes':
      if (v === null) return null;
      if (!(v instanceof Uint8Array)) throw bad();
      return v;
  }
}

function zero(kind: Kind): unknown {
  switch (kind) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return null;
    default:
      return 0;
  }
}

/**
 * Read a struct's map from `r`: fields matched by Go name, unknown ones skipped, missing ones zero (omitempty fields
 * missing stay absent).
 */
export function readStruct<T>(r: MsgReader, fields: readonly Field[], what: string): T {
  const at = r.offset;
  const v = r.value();
  if (!isMap(v)) throw new CodecError('bad-value', `memberlist: ${what} is not a map`, at);
  const out: Record<string, unknown> = {};
  for (const [, ts, kind, omit] of fields) if (!omit) out[ts] = zero(kind);
  for (const [k, x] of v.entries) {
    if (!(k instanceof Uint8Array)) continue;
    const name = rawText(k, `${what} key`);
    const f = fields.find((f) => f[0] === name);
    if (f) out[f[1]] = fieldValue(f[0], f[2], x);
  }
  return out as T;
}

const BODY: Record<Exclude<MlMessage['type'], 'user'>, { type: number; fields: readonly Field[] }> = {
  ping: { type: MlType.ping, fields: PING },
  'indirect-ping': { type: MlType.indirectPing, fields: INDIRECT_PING },
  ack: { type: MlType.ack, fields: ACK },
  nack: { type: MlType.nack, fields: NACK },
  suspect: { type: MlType.suspect, fields: SUSPECT },
  alive: { type: MlType.alive, fields: ALIVE },
  dead: { type: MlType.dead, fields: DEAD },
  err: { type: MlType.err, fields: ERR },
};

const BY_TYPE = new Map<number, { name: Exclude<MlMessage['type'], 'user'>; fields: readonly Field[] }>(
  Object.entries(BODY).map(([name, b]) => [
    b.type,
    { name: name as Exclude<MlMessage['type'], 'user'>, fields: b.fields },
  ]),
);

/** Encode one message: its type byte, then its msgpack body (or, for a user message, its bytes). */
export function encodeMlMessage(m: MlMessage): Uint8Array {
  const w = new ByteWriter();
  if (m.type === 'user') {
    w.u8(MlType.user);
    w.bytes(m.payload);
    return w.finish();
  }
  const { type, fields } = BODY[m.type];
  w.u8(type);
  writeStruct(w, fields, m);
  return w.finish();
}

/**
 * Decode one message (type byte and body). Throws `unknown-type` for the envelope types (compound, compress, CRC,
 * label, encrypt, push-pull), which packet.ts and stream.ts unwrap. Trailing bytes after the body are ignored, as Go's
 * decoder ignores them.
 */
export function decodeMlMessage(buf: Uint8Array): MlMessage {
  if (buf.length < 1) throw new CodecError('truncated', 'memberlist: missing message type byte', 0);
  const t = buf[0] as number;
  if (t === MlType.user) return { type: 'user', payload: buf.slice(1) };
  const spec = BY_TYPE.get(t);
  if (!spec) throw new CodecError('unknown-type', `memberlist: message type ${t} not supported here`, 0);
  const body = readStruct<Record<string, unknown>>(new MsgReader(buf, 1), spec.fields, spec.name);
  return { type: spec.name, ...body } as MlMessage;
}
