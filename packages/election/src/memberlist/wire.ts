/**
 * hashicorp/memberlist's wire for a {@link Membership}: Ingot's messages translated to memberlist's (v0.5.1, protocol 2
 * spoken, 1-5 understood) and back, sealed as memberlist seals them (compound, LZW when smaller, CRC, AES-GCM version 1
 * with the label as additional data, label header) and TCP streams framed as memberlist frames them.
 */
import type { Address, Labels, MemberRecord, MemberStatus, Message } from '../codec.js';
import { CodecError } from '../errors.js';
import { formatIp, parseIp } from '../ip.js';
import type { Keyring } from '../keyring.js';
import type { StreamFraming } from '../transport.js';
import type { GossipWire, WireOpened } from '../wire.js';
import { encodeMlMessage, type MlMessage, type MlNodeState, MlType } from './messages.js';
import { checkMetaLabels, labelsToMeta, metaToLabels } from './meta.js';
import { MsgReader } from './msgpack.js';
import { ML_LABEL_MAX, openMlPacket, sealMlPacket, splitMlLabel } from './packet.js';
import { mlEncryptOverhead } from './security.js';
import { encodeMlStreamMessage, type MlStreamMessage, readMlStream, sealMlStream } from './stream.js';

/** Protocol and delegate versions Ingot announces: memberlist v0.5.1's (min 1, max 5, current 2; delegate 0). */
export const ML_VSN = Uint8Array.of(1, 5, 2, 0, 0, 0);

const STATES: MemberStatus[] = ['alive', 'suspect', 'dead', 'left'];

/** Options of {@link MemberlistWire}. */
export interface MemberlistWireOptions {
  /** This member's name and advertised address (ping source fields). */
  name: string;
  address: Address;
  /** The cluster keyring (MetalLB: one key, {@link metallbSecretKey} of the Secret). */
  keyring?: Keyring;
  /** memberlist's Label (default '', as MetalLB). */
  label?: string;
  /** memberlist's EnableCompression (default true, the LAN default). */
  compression?: boolean;
}

function addressOf(addr: Uint8Array | null, port: number, what: string): Address {
  if (!addr || (addr.length !== 4 && addr.length !== 16)) {
    throw new CodecError('bad-address', `memberlist: ${what} address is not 4 or 16 bytes`);
  }
  return { host: formatIp(addr), port };
}

/** Ingot message → memberlist message. */
export function toMl(m: Message, self: { name: string; address: Address }): MlMessage | MlStreamMessage {
  switch (m.type) {
    case 'ping':
      return {
        type: 'ping',
        seqNo: m.seq,
        node: m.target,
        sourceAddr: parseIp(self.address.host),
        sourcePort: self.address.port,
        sourceNode: m.source,
      };
    case 'ping-req':
      return {
        type: 'indirect-ping',
        seqNo: m.seq,
        target: parseIp(m.targetAddress.host),
        port: m.targetAddress.port,
        node: m.target,
        nack: m.nack,
        sourceAddr: parseIp(self.address.host),
        sourcePort: self.address.port,
        sourceNode: m.source,
      };
    case 'ack':
      return { type: 'ack', seqNo: m.seq, payload: null };
    case 'nack':
      return { type: 'nack', seqNo: m.seq };
    case 'suspect':
    case 'dead':
      return { type: m.type, incarnation: m.incarnation, node: m.node, from: m.from };
    case 'alive':
      return {
        type: 'alive',
        incarnation: m.incarnation,
        node: m.node,
        addr: parseIp(m.address.host),
        port: m.address.port,
        meta: labelsToMeta(m.labels),
        vsn: ML_VSN,
      };
    case 'push-pull':
      return {
        type: 'push-pull',
        join: m.join,
        nodes: m.members.map(
          (r): MlNodeState => ({
            name: r.name,
            addr: parseIp(r.address.host),
            port: r.address.port,
            meta: labelsToMeta(r.labels),
            incarnation: r.incarnation,
            state: STATES.indexOf(r.status),
            vsn: ML_VSN,
          }),
        ),
        userState: null,
      };
  }
}

/** memberlist message → Ingot message; undefined for what Ingot does not act on (user messages, errors). */
export function fromMl(m: MlMessage | MlStreamMessage, from: Address): Message | undefined {
  switch (m.type) {
    case 'ping':
      return { type: 'ping', seq: m.seqNo, target: m.node, source: m.sourceNode ?? '' };
    case 'indirect-ping':
      return {
        type: 'ping-req',
        seq: m.seqNo,
        target: m.node,
        targetAddress: addressOf(m.target, m.port, 'indirect ping target'),
        source: m.sourceNode ?? '',
        nack: m.nack,
      };
    case 'ack':
      return { type: 'ack', seq: m.seqNo };
    case 'nack':
      return { type: 'nack', seq: m.seqNo };
    case 'suspect':
    case 'dead':
      return { type: m.type, incarnation: m.incarnation, node: m.node, from: m.from };
    case 'alive':
      return {
        type: 'alive',
        incarnation: m.incarnation,
        node: m.node,
        address: addressOf(m.addr, m.port, `alive ${m.node}`),
        labels: metaToLabels(m.meta),
      };
    case 'push-pull':
      return {
        type: 'push-pull',
        join: m.join,
        // memberlist's push-pull does not name its sender
        source: `${from.host}:${from.port}`,
        members: m.nodes.map((n): MemberRecord => {
          const status = STATES[n.state];
          if (!status) throw new CodecError('bad-state', `memberlist: node state ${n.state}`);
          return {
            name: n.name,
            address: addressOf(n.addr, n.port, `push-pull ${n.name}`),
            incarnation: n.incarnation,
            status,
            labels: metaToLabels(n.meta),
          };
        }),
      };
    case 'user':
    case 'err':
      return undefined;
  }
}

/**
 * Where a memberlist stream message ends, from its layout alone (no keys needed): after an optional label header, an
 * encrypted message carries its length, a compressed one is one msgpack value, a plain one is parsed.
 */
export const MEMBERLIST_FRAMING: StreamFraming = {
  encode: (data) => data,
  measure(buf, limit) {
    const skip = labelLength(buf);
    if (skip === undefined) return undefined;
    const rest = buf.subarray(skip);
    if (rest.length === 0) return undefined;
    if (rest[0] === MlType.encrypt) {
      if (rest.length < 5) return undefined;
      const need = skip + 5 + new DataView(rest.buffer, rest.byteOffset + 1, 4).getUint32(0);
      if (need > limit) throw new CodecError('too-large', `memberlist: stream message of ${need} bytes`);
      return buf.length >= need ? { start: 0, end: need } : { need };
    }
    try {
      if (rest[0] === MlType.compress) {
        const r = new MsgReader(rest, 1);
        r.value();
        return { start: 0, end: skip + r.offset };
      }
      const read = readMlStream(rest, { label: '', keys: [], verifyIncoming: false, labelHeader: false });
      return { start: 0, end: skip + read.consumed };
    } catch (e) {
      if (e instanceof CodecError && e.code === 'truncated') return undefined;
      throw e;
    }
  },
};

/** Bytes of the label header at the start of a stream (0 without one), or undefined until all of it is in. */
function labelLength(buf: Uint8Array): number | undefined {
  if (buf.length === 0 || buf[0] !== MlType.hasLabel) return 0;
  if (buf.length < 2 || buf.length < 2 + (buf[1] as number)) return undefined;
  return buf.length - splitMlLabel(buf).rest.length;
}

/**
 * {@link MEMBERLIST_FRAMING} as a member with a keyring reads streams: memberlist encrypts every stream when keys are
 * set, so a stream whose first byte after the label is not the encrypt type is refused there (`unauthenticated`,
 * counted as `malformed` by the transport), before any of it is parsed. (A plaintext stream is measured by parsing it
 * from the start each time bytes arrive: a peer trickling a 64 KiB push-pull a few bytes at a time could otherwise make
 * a member spend seconds of CPU per connection.) A transport bound with MEMBERLIST_FRAMING adopts it.
 */
export const MEMBERLIST_ENCRYPTED_FRAMING: StreamFraming = {
  encode: (data) => data,
  base: MEMBERLIST_FRAMING,
  measure(buf, limit) {
    const skip = labelLength(buf);
    if (skip === undefined || buf.length <= skip) return undefined;
    if (buf[skip] !== MlType.encrypt) {
      throw new CodecError('unauthenticated', 'memberlist: encryption is configured but the stream is not encrypted');
    }
    return MEMBERLIST_FRAMING.measure(buf, limit);
  },
};

/** memberlist's wire (see the module comment). */
export class MemberlistWire implements GossipWire {
  readonly format = 'memberlist' as const;
  readonly framing: StreamFraming;
  readonly packetOverhead: number;
  /** The u16 length each part takes in a compound. */
  readonly perMessageOverhead = 2;
  private readonly self: { name: string; address: Address };
  private readonly label: string;
  private readonly compression: boolean;

  private readonly keyring: Keyring | undefined;

  /** @param o - name, address, keyring, label, compression */
  constructor(o: MemberlistWireOptions) {
    this.keyring = o.keyring;
    this.framing = o.keyring ? MEMBERLIST_ENCRYPTED_FRAMING : MEMBERLIST_FRAMING;
    this.self = { name: o.name, address: o.address };
    this.label = o.label ?? '';
    if (new TextEncoder().encode(this.label).length > ML_LABEL_MAX) {
      throw new CodecError('bad-label', `memberlist: label over ${ML_LABEL_MAX} bytes`);
    }
    this.compression = o.compression ?? true;
    const labelBytes = this.label === '' ? 0 : 2 + new TextEncoder().encode(this.label).length;
    // compound header, CRC header, label header, encryption
    this.packetOverhead = 2 + 5 + labelBytes + (this.keyring ? mlEncryptOverhead(1) : 0);
  }

  private get keys(): Uint8Array[] {
    return this.keyring ? this.keyring.allKeys : [];
  }

  checkLabels(labels: Labels): void {
    checkMetaLabels(labels);
  }

  encode(m: Message): Uint8Array {
    const ml = toMl(m, this.self);
    if (ml.type === 'push-pull') throw new CodecError('unknown-type', 'memberlist: push-pull travels over TCP only');
    return encodeMlMessage(ml as MlMessage);
  }

  seal(encoded: Uint8Array[]): Uint8Array {
    // The CRC header always: memberlist accepts it from anyone and v0.5 adds it for peers speaking protocol 5.
    return sealMlPacket(encoded, { label: this.label, keys: this.keys, compress: this.compression, crc: true });
  }

  open(data: Uint8Array, from: Address): WireOpened {
    try {
      const opened = openMlPacket(data, { label: this.label, keys: this.keys });
      const messages: Message[] = [];
      for (const m of opened.messages) {
        const x = fromMl(m, from);
        if (x) messages.push(x);
      }
      return { ok: true, messages };
    } catch (e) {
      return this.rejection(e, data);
    }
  }

  sealStream(m: Message, dialer: boolean): Uint8Array {
    const ml = toMl(m, this.self) as MlStreamMessage;
    return sealMlStream(encodeMlStreamMessage(ml), {
      label: this.label,
      keys: this.keys,
      compress: this.compression,
      labelHeader: dialer,
    });
  }

  openStream(data: Uint8Array, from: Address, accepted: boolean): WireOpened {
    try {
      const read = readMlStream(data, { label: this.label, keys: this.keys, labelHeader: accepted });
      const m = fromMl(read.message, from);
      return { ok: true, messages: m ? [m] : [] };
    } catch (e) {
      return this.rejection(e, data);
    }
  }

  private rejection(e: unknown, data: Uint8Array): WireOpened {
    if (!(e instanceof CodecError)) throw e;
    if (e.code === 'unauthenticated') {
      // Sealed payloads start with encryption version 0 or 1; a higher first byte is a plaintext message type.
      let first = 0;
      try {
        first = splitMlLabel(data).rest[0] ?? 0;
      } catch {
        // the label was read before decryption failed; unreachable, but never throw from here
      }
      const plaintext = first > 1 && first !== MlType.encrypt;
      return { ok: false, reason: plaintext ? 'plaintext-refused' : 'auth-failed', detail: { error: e.message } };
    }
    if (e.code === 'bad-label') return { ok: false, reason: 'bad-envelope', detail: { error: e.message } };
    return { ok: false, reason: 'decode-error', detail: { code: e.code, error: e.message } };
  }
}
