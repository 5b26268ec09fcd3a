// Hardening on memberlist's wire (the default): whatever arrives from the network is counted and dropped, never thrown,
// and only what memberlist's semantics allow changes the member list. Real UDP + TCP on 127.0.0.1; the fuzzed inputs
// are handed to a member's receive handlers directly (synchronously, so no timer runs between them).
import net from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Address,
  Keyring,
  Membership,
  metallbSecretKey,
  type Transport,
  type TransportHandlers,
  UdpTransport,
} from '../src/index.js';
import { encodeMlMessage, type MlMessage } from '../src/memberlist/messages.js';
import { compressMl, ML_MAX_DECOMPRESSED_PACKET, sealMlPacket } from '../src/memberlist/packet.js';
import { ML_MAX_STREAM_BYTES } from '../src/memberlist/stream.js';
import { loopbackMembers, waitFor } from './helpers/loopback-members.js';

const { member, track } = loopbackMembers();
const KEY = metallbSecretKey('c2VjcmV0LXNlY3JldC0xMg');
const ATTACKER: Address = { host: '127.0.0.9', port: 7946 };

/** Wraps a transport: keeps its receive handlers (to inject into) and a copy of every datagram received. */
function tapped(tap: { handlers?: TransportHandlers; seen: Uint8Array[] }): (t: Transport) => Transport {
  return (t) => ({
    get address() {
      return t.address;
    },
    send: (to, data) => t.send(to, data),
    exchange: (...a) => t.exchange(...a),
    close: () => t.close(),
    useFraming: (f) => t.useFraming?.(f),
    listen(handlers) {
      tap.handlers = handlers;
      t.listen({
        packet(data, from) {
          if (tap.seen.length < 50) tap.seen.push(Uint8Array.from(data));
          handlers.packet(data, from);
        },
        exchange: (data, from) => handlers.exchange(data, from),
      });
    },
  });
}

/** What a member believes about everyone (status, incarnation, address, labels). */
const view = (m: Membership) =>
  m
    .members()
    .map((x) => ({ name: x.name, status: x.status, incarnation: x.incarnation, address: x.address, labels: x.labels }))
    .sort((a, b) => a.name.localeCompare(b.name));
const refused = (m: Membership) => Object.values(m.rejections()).reduce((a, b) => a + b, 0);

/** A pair a, b (b joined to a), with a's handlers and the datagrams it received so far. */
async function pair(keyring?: Keyring, wire?: 'ingot') {
  const tap: { handlers?: TransportHandlers; seen: Uint8Array[] } = { seen: [] };
  const options = { ...(keyring ? { keyring } : {}), ...(wire ? { wire } : {}) };
  const a = await member('a', options, tapped(tap));
  const b = await member('b', options);
  await b.join([a.local.address]);
  await waitFor(() => a.usableMembers().length === 2 && tap.seen.length >= 3, 5000, 'a and b see each other');
  return { a, b, handlers: tap.handlers!, seen: tap.seen };
}

/** memberlist messages about the cluster that, authenticated, would change a's list. */
const hostile: MlMessage[] = [
  {
    type: 'alive',
    incarnation: 9,
    node: 'intruder',
    addr: Uint8Array.of(127, 0, 0, 9),
    port: 7946,
    meta: null,
    vsn: Uint8Array.of(1, 5, 2, 0, 0, 0),
  },
  { type: 'dead', incarnation: 1_000, node: 'b', from: 'intruder' },
  { type: 'suspect', incarnation: 1_000, node: 'b', from: 'intruder' },
  { type: 'dead', incarnation: 1_000, node: 'b', from: 'b' },
];
const bytesArb = fc.uint8Array({ maxLength: 1500 });
const hostileArb = fc.subarray(hostile, { minLength: 1 }).map((ms) => ms.map(encodeMlMessage));

describe('memberlist wire under attack', () => {
  it('keyed: random, mutated, plaintext and wrong-key datagrams are all refused and counted; the list never changes', async () => {
    const { a, handlers, seen } = await pair(new Keyring([KEY]));
    const before = view(a);
    const refusedBefore = refused(a);
    const wrong = metallbSecretKey('d3JvbmctZ3Vlc3NlZC1rZXk');
    const datagram = fc.oneof(
      bytesArb,
      // a captured sealed datagram with one byte changed
      fc.tuple(fc.constantFrom(...seen), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([p, i, x]) => {
        const m = Uint8Array.from(p);
        m[i % m.length] = (m[i % m.length] as number) ^ x;
        return m;
      }),
      // well-formed hostile messages, in plaintext or sealed with a key a does not hold, compressed or not
      fc
        .tuple(hostileArb, fc.boolean(), fc.boolean())
        .map(([ms, sealed, compress]) =>
          sealMlPacket(ms, { label: '', keys: sealed ? [wrong] : [], compress, crc: true }),
        ),
    );
    let sent = 0;
    fc.assert(
      fc.property(datagram, (d) => {
        handlers.packet(d, ATTACKER);
        sent++;
      }),
      { numRuns: 1500 },
    );
    expect(refused(a) - refusedBefore).toBe(sent);
    expect(a.stats.plaintextRejected).toBeGreaterThan(0);
    expect(a.stats.authFailures).toBeGreaterThan(0);
    expect(view(a)).toEqual(before);
  });

  it("has no replay protection (memberlist's design, kept for interop): a captured sealed datagram is accepted again", async () => {
    // The trade-off that keeps Ingot's own wire as an option: there the same replay is refused.
    const ml = await pair(new Keyring([KEY]));
    const ingot = await pair(new Keyring([KEY]), 'ingot');
    const before = { ml: refused(ml.a), ingot: ingot.a.stats.replayRejected };
    ml.handlers.packet(ml.seen[0]!, ATTACKER);
    ingot.handlers.packet(ingot.seen[0]!, ATTACKER);
    expect(refused(ml.a)).toBe(before.ml);
    expect(ingot.a.stats.replayRejected).toBe(before.ingot + 1);
  });

  it('plaintext: random and mutated datagrams never throw and leave the member alive; junk is counted', async () => {
    const { a, handlers, seen } = await pair();
    const errorsBefore = a.stats.decodeErrors;
    const datagram = fc.oneof(
      bytesArb,
      fc.tuple(fc.constantFrom(...seen), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([p, i, x]) => {
        const m = Uint8Array.from(p);
        m[i % m.length] = (m[i % m.length] as number) ^ x;
        return m;
      }),
    );
    fc.assert(
      fc.property(datagram, (d) => {
        handlers.packet(d, ATTACKER);
      }),
      { numRuns: 1500 },
    );
    expect(a.stats.decodeErrors).toBeGreaterThan(errorsBefore);
    // whatever the fuzz said about a, a is alive (it refutes accusations of itself, as memberlist does)
    expect(a.local.status).toBe('alive');
    expect(a.usableMembers()).toContain('a');
  });

  it('an LZW bomb datagram (2,738 bytes → 2 MiB) is dropped at 1 MiB and counted; keyed, it is refused unopened', async () => {
    const bomb = compressMl(new Uint8Array(2 * ML_MAX_DECOMPRESSED_PACKET));
    expect(bomb.length).toBeLessThan(3000);
    const plain = await pair();
    const before = view(plain.a);
    const errors = plain.a.stats.decodeErrors;
    plain.handlers.packet(bomb, ATTACKER);
    expect(plain.a.stats.decodeErrors).toBe(errors + 1);
    expect(view(plain.a)).toEqual(before);

    const keyed = await pair(new Keyring([KEY]));
    const plaintext = keyed.a.stats.plaintextRejected;
    keyed.handlers.packet(bomb, ATTACKER);
    expect(keyed.a.stats.plaintextRejected).toBe(plaintext + 1);
  });

  it('stream requests: random bytes and a compressed bomb over the stream limit get no reply and are counted', async () => {
    const { a, handlers } = await pair();
    const before = view(a);
    const errors = a.stats.decodeErrors;
    const bomb = compressMl(new Uint8Array(ML_MAX_STREAM_BYTES + (1 << 20)));
    expect(bomb.length).toBeLessThan(64 << 10); // fits the transport's request limit: only the decompressor stops it
    expect(handlers.exchange(bomb, ATTACKER)).toBeUndefined();
    expect(a.stats.decodeErrors).toBe(errors + 1);
    fc.assert(
      fc.property(bytesArb, (b) => {
        handlers.exchange(b, ATTACKER);
      }),
      { numRuns: 500 },
    );
    expect(a.stats.decodeErrors).toBeGreaterThan(errors + 1);
    expect(view(a)).toEqual(before);
  });

  it('keyed: a plaintext stream is closed at its first byte, before any parsing (the transport counts it malformed)', async () => {
    const t = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
    const a = new Membership({ name: 'a', transport: t, keyring: new Keyring([KEY]) }).start();
    track(a);
    // a plaintext push-pull header, sent one byte per write: the member closes the connection after the first byte
    const header = Uint8Array.of(6, 0x83, 0xa4, 0x4a, 0x6f, 0x69, 0x6e, 0xc2);
    const closedAfter = await new Promise<number>((resolve) => {
      let written = 0;
      const c = net.connect(a.local.address.port, '127.0.0.1', () => {
        c.setNoDelay(true);
        const next = () => {
          if (written >= header.length || c.destroyed) return;
          c.write(header.subarray(written, written + 1));
          written++;
          setTimeout(next, 20);
        };
        next();
      });
      c.on('close', () => resolve(written));
      c.on('error', () => {});
    });
    expect(closedAfter).toBeLessThan(header.length);
    expect(t.stats.malformed).toBe(1);
    expect(t.stats.deadline).toBe(0);
  });
});
