/** Ingot's own gossip wire: the compact codec (codec.ts) in the sealed envelope v2 with its replay window (envelope.ts). */
import {
  type Address,
  assemblePacket,
  decodePacket,
  encodeMessage,
  encodePacket,
  type Labels,
  type Message,
} from './codec.js';
import { ENVELOPE_OVERHEAD, openEnvelope, sealEnvelope } from './envelope.js';
import { CodecError } from './errors.js';
import type { Keyring } from './keyring.js';
import type { ReplayWindow } from './replay-window.js';
import { LENGTH_PREFIX_FRAMING } from './transport.js';
import type { GossipWire, WireOpened } from './wire.js';

/** Ingot's wire (see {@link GossipWire}). */
export class IngotWire implements GossipWire {
  readonly format = 'ingot' as const;
  readonly framing = LENGTH_PREFIX_FRAMING;
  readonly packetOverhead: number;
  readonly perMessageOverhead = 0;

  /**
   * @param keyring - the cluster keyring, if encryption is on
   * @param replay - the receiver's replay window (with a keyring)
   * @param wallNow - wall-clock ms stamped into sealed packets and checked against the window
   */
  constructor(
    private readonly keyring: Keyring | undefined,
    private readonly replay: ReplayWindow | undefined,
    private readonly wallNow: () => number,
  ) {
    this.packetOverhead = 3 + (keyring ? ENVELOPE_OVERHEAD : 0);
  }

  checkLabels(_labels: Labels): void {}

  encode(m: Message): Uint8Array {
    return encodeMessage(m);
  }

  seal(encoded: Uint8Array[]): Uint8Array {
    return sealEnvelope(assemblePacket(encoded), this.keyring, this.wallNow());
  }

  open(data: Uint8Array, _from: Address): WireOpened {
    const guard = this.replay ? { window: this.replay, now: this.wallNow() } : undefined;
    const opened = openEnvelope(data, this.keyring, guard);
    if (!opened.ok)
      return { ok: false, reason: opened.reason === 'encrypted-without-key' ? 'bad-envelope' : opened.reason };
    try {
      return { ok: true, messages: decodePacket(opened.packet).messages };
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      return { ok: false, reason: 'decode-error', detail: { code: e.code, error: e.message } };
    }
  }

  sealStream(m: Message, _dialer: boolean): Uint8Array {
    return sealEnvelope(encodePacket({ messages: [m] }), this.keyring, this.wallNow());
  }

  openStream(data: Uint8Array, from: Address, _accepted: boolean): WireOpened {
    return this.open(data, from);
  }
}
