/**
 * The memberlist codec against bytes captured from the real hashicorp/memberlist v0.5.1 (test/fixtures/memberlist,
 * captured by its capture.sh): every packet and stream each agent sent opens, and sealing what was decoded again (with
 * the captured nonce) gives back the same bytes, so encoding matches memberlist's byte for byte.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CodecError } from '../src/errors.js';
import { metallbSecretKey } from '../src/keyring.js';
import { encodeMlMessage, type MlMessage } from '../src/memberlist/messages.js';
import { openMlPacket, sealMlPacket, splitMlLabel } from '../src/memberlist/packet.js';
import { encodeMlStreamMessage, type MlStreamMessage, readMlStream, sealMlStream } from '../src/memberlist/stream.js';

interface Scenario {
  compression: boolean;
  secret?: string;
  label?: string;
}

interface Record {
  agent: string;
  dir: 'in' | 'out';
  kind: 'packet' | 'stream';
  conn: number;
  hex: string;
}

const dir = new URL('./fixtures/memberlist/', import.meta.url);
const scenarios = JSON.parse(readFileSync(new URL('scenarios.json', dir), 'utf8')) as { [name: string]: Scenario };

function load(name: string): Record[] {
  return readFileSync(new URL(`${name}.jsonl`, dir), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record);
}

/** Sent packets, and sent streams (chunks of one connection and direction joined). */
function sent(records: Record[]): { packets: Uint8Array[]; streams: Uint8Array[] } {
  const packets: Uint8Array[] = [];
  const streams = new Map<string, number[]>();
  for (const r of records) {
    if (r.dir !== 'out') continue;
    const bytes = Buffer.from(r.hex, 'hex');
    if (r.kind === 'packet') packets.push(new Uint8Array(bytes));
    else {
      const key = `${r.agent}/${r.conn}`;
      streams.set(key, [...(streams.get(key) ?? []), ...bytes]);
    }
  }
  return { packets, streams: [...streams.values()].map((s) => Uint8Array.from(s)) };
}

/** The nonce of a sealed packet or stream (after the label header, and the stream's [10][length]). */
function nonceOf(buf: Uint8Array, stream: boolean): Uint8Array {
  const rest = splitMlLabel(buf).rest;
  const at = stream ? 5 : 0;
  return rest.slice(at + 1, at + 13);
}

/** A copy inside a larger buffer, so decoders are tested on sliced views. */
function sliced(b: Uint8Array): Uint8Array {
  const big = new Uint8Array(b.length + 7);
  big.set(b, 3);
  return big.subarray(3, 3 + b.length);
}

for (const [name, sc] of Object.entries(scenarios)) {
  describe(`memberlist wire vectors: ${name}`, () => {
    const { packets, streams } = sent(load(name));
    const keys = sc.secret ? [metallbSecretKey(sc.secret)] : [];
    const label = sc.label ?? '';
    const sec = { label, keys };

    it('has packets and streams to check', () => {
      expect(packets.length).toBeGreaterThan(50);
      expect(streams.length).toBeGreaterThan(5);
    });

    it('every sent packet opens, and sealing its messages again gives the same bytes', () => {
      const types = new Set<string>();
      for (const p of packets) {
        const opened = openMlPacket(sliced(p), sec);
        expect(opened.truncated).toBe(0);
        expect(opened.encrypted).toBe(keys.length > 0);
        for (const m of opened.messages) types.add(m.type);
        const again = sealMlPacket(opened.messages.map(encodeMlMessage), {
          ...sec,
          compress: sc.compression,
          crc: opened.checksummed,
          nonce: keys.length > 0 ? nonceOf(p, false) : undefined,
        });
        expect(Buffer.from(again).toString('hex')).toBe(Buffer.from(p).toString('hex'));
      }
      expect([...types].sort()).toEqual(
        expect.arrayContaining(['ack', 'alive', 'dead', 'indirect-ping', 'nack', 'ping', 'suspect', 'user']),
      );
    });

    it('every sent stream reads whole, and sealing it again gives the same bytes', () => {
      const kinds = new Set<string>();
      let dialed = 0;
      for (const s of streams) {
        const labelHeader = label !== '' && s[0] === 244;
        if (labelHeader) dialed++;
        const read = readMlStream(sliced(s), { ...sec, labelHeader });
        expect(read.consumed).toBe(s.length);
        expect(read.encrypted).toBe(keys.length > 0);
        expect(read.compressed).toBe(sc.compression);
        kinds.add(read.message.type === 'push-pull' ? `push-pull:${read.message.join}` : read.message.type);
        const again = sealMlStream(encodeMlStreamMessage(read.message), {
          ...sec,
          compress: sc.compression,
          labelHeader,
          nonce: keys.length > 0 ? nonceOf(s, true) : undefined,
        });
        expect(Buffer.from(again).toString('hex')).toBe(Buffer.from(s).toString('hex'));
      }
      expect([...kinds].sort()).toEqual(['push-pull:false', 'push-pull:true', 'user']);
      if (label !== '') expect(dialed).toBeGreaterThan(0);
    });

    it('carries what the agents did: meta, user messages, user state, suspicion of c, b leaving', () => {
      const messages: MlMessage[] = packets.flatMap((p) => openMlPacket(p, sec).messages);
      const streamed: MlStreamMessage[] = streams.map(
        (s) => readMlStream(s, { ...sec, labelHeader: label !== '' && s[0] === 244 }).message,
      );
      const text = (b: Uint8Array | null) => (b ? Buffer.from(b).toString() : '');
      expect(messages).toContainEqual(
        expect.objectContaining({ type: 'alive', node: 'a', meta: new Uint8Array(Buffer.from('zone=a2')) }),
      );
      expect(messages.some((m) => m.type === 'user' && text(m.payload) === 'hello-udp')).toBe(true);
      expect(messages.some((m) => m.type === 'user' && text(m.payload) === 'bcast-1')).toBe(true);
      expect(messages.some((m) => m.type === 'suspect' && m.node === 'c')).toBe(true);
      expect(messages.some((m) => m.type === 'dead' && m.node === 'c' && m.from !== 'c')).toBe(true);
      expect(messages.some((m) => m.type === 'dead' && m.node === 'b' && m.from === 'b')).toBe(true);
      expect(streamed.some((m) => m.type === 'user' && text(m.payload) === 'hello-tcp')).toBe(true);
      const joinState = streamed.find((m) => m.type === 'push-pull' && m.join && text(m.userState) === 'state-a');
      expect(joinState).toBeDefined();
      if (joinState?.type !== 'push-pull') throw new Error('push-pull');
      const a = joinState.nodes.find((n) => n.name === 'a');
      expect(a).toMatchObject({ port: 17946, state: 0, incarnation: 1 });
      expect([...(a?.vsn ?? [])]).toEqual([1, 5, 2, 0, 0, 0]);
      expect([...(a?.addr ?? [])]).toEqual([127, 0, 0, 1]);
      // An agent without meta sends nil meta, as a memberlist without a Delegate (MetalLB's speaker) does.
      expect(joinState.nodes.find((n) => n.name !== 'a')?.meta ?? null).toBeNull();
    });

    it('every strict prefix of a stream asks for more bytes (truncated), never anything else', () => {
      for (const s of streams.slice(0, 6)) {
        const labelHeader = label !== '' && s[0] === 244;
        for (let n = 0; n < s.length; n += Math.max(1, Math.floor(s.length / 97))) {
          let err: unknown;
          try {
            readMlStream(s.subarray(0, n), { ...sec, labelHeader });
          } catch (e) {
            err = e;
          }
          expect(err, `prefix ${n}/${s.length}`).toBeInstanceOf(CodecError);
          expect((err as CodecError).code, `prefix ${n}/${s.length}`).toBe('truncated');
        }
      }
    });

    it('a truncated or bit-flipped packet is refused with a CodecError or reports truncated parts', () => {
      for (const p of packets.slice(0, 30)) {
        for (const n of [0, 1, 2, 5, Math.floor(p.length / 2), p.length - 1]) {
          try {
            const r = openMlPacket(p.subarray(0, n), sec);
            expect(r.truncated, `prefix ${n}/${p.length}`).toBeGreaterThan(0);
          } catch (e) {
            expect(e).toBeInstanceOf(CodecError);
          }
        }
        if (keys.length > 0) {
          const flipped = Uint8Array.from(p);
          flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
          expect(() => openMlPacket(flipped, sec)).toThrow(expect.objectContaining({ code: 'unauthenticated' }));
        }
      }
    });

    if (keys.length > 0) {
      it('a wrong key opens nothing; without keys encrypted packets are not plaintext', () => {
        const wrong = { label, keys: [metallbSecretKey('another-secret-00')] };
        for (const p of packets.slice(0, 20)) {
          expect(() => openMlPacket(p, wrong)).toThrow(expect.objectContaining({ code: 'unauthenticated' }));
        }
        for (const s of streams) {
          const labelHeader = label !== '' && s[0] === 244;
          expect(() => readMlStream(s, { ...wrong, labelHeader })).toThrow(
            expect.objectContaining({ code: 'unauthenticated' }),
          );
          expect(() => readMlStream(s, { label, keys: [], labelHeader })).toThrow(CodecError);
        }
      });
    }

    if (label !== '') {
      it('another label is refused, as is no label', () => {
        for (const p of packets.slice(0, 20)) {
          expect(() => openMlPacket(p, { ...sec, label: 'other' })).toThrow(
            expect.objectContaining({ code: 'bad-label' }),
          );
          expect(() => openMlPacket(p, { ...sec, label: '' })).toThrow(expect.objectContaining({ code: 'bad-label' }));
        }
      });
    }
  });
}
