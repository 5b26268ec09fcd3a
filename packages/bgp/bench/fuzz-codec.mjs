// Codec fuzzer: feeds millions of random and mutated BGP messages (bit flips, byte sets, truncations, insertions,
// deletions, splices, and lies in every length field) to decodeMessage and MessageDecoder, and checks that nothing but
// BgpError is ever thrown (and never the defensive "internal decoder error"), and that whatever decodes re-encodes.
// Bounded by count and time. Build first: npx tsup.
//
//   node bench/fuzz-codec.mjs [--count 2000000] [--seconds 60] [--seed 12345]
//
// Exit code 1 when any failure was found; failing inputs are printed as hex.
import { readdirSync, readFileSync } from 'node:fs';
import {
  createOpen,
  decodeMessage,
  encodeMessage,
  endOfRib,
  MessageDecoder,
  notifications,
  packUpdates,
  packWithdrawals,
} from '../dist/codec.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const COUNT = arg('count', Number(process.env.FUZZ_COUNT ?? 2_000_000));
const SECONDS = arg('seconds', Number(process.env.FUZZ_SECONDS ?? 60));
const SEED = arg('seed', Date.now() % 2 ** 31) >>> 0 || 1;

// xorshift32: fast, seeded, reproducible
let state = SEED;
const rand = () => {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state;
};
const below = (n) => rand() % n;
const pick = (a) => a[below(a.length)];
const chance = (p) => rand() / 4294967296 < p;

// ---- corpus: real captures plus messages built with the codec under many options ----
const corpus = [];
const fixtures = new URL('../test/fixtures/captured/', import.meta.url);
for (const f of readdirSync(fixtures).filter((x) => x.endsWith('.json')))
  for (const m of JSON.parse(readFileSync(new URL(f, fixtures), 'utf8')).messages)
    corpus.push(Uint8Array.from(Buffer.from(m.hex, 'hex')));
const v4 = (i) => `198.18.${(i >> 8) & 255}.${i & 255}/${24 + (i % 9)}`;
const v6 = (i) => `2001:db8:${(i + 1).toString(16)}::/${48 + (i % 81)}`;
const attrs = {
  origin: 'igp',
  asPath: [
    { type: 'sequence', asns: [64512, 4200000000] },
    { type: 'set', asns: [1, 2, 3] },
    { type: 'confed-sequence', asns: [65000] },
  ],
  nextHop: '192.0.2.1',
  med: 5,
  localPref: 100,
  atomicAggregate: true,
  aggregator: { asn: 4200000000, address: '192.0.2.9' },
  communities: ['64512:1', 'no-export'],
  originatorId: '192.0.2.3',
  clusterList: ['192.0.2.4'],
  extendedCommunities: ['0002fc0000000064'],
  largeCommunities: ['4200000000:1:2'],
  unknown: [{ flags: 0xc0, type: 250, value: Uint8Array.of(1, 2, 3, 4) }],
};
const optionSets = [
  {},
  { fourOctetAs: false },
  { addPath: { ipv4Unicast: true, ipv6Unicast: true } },
  { extendedMessages: true },
  { fourOctetAs: false, addPath: { ipv4Unicast: true } },
];
for (const o of optionSets) {
  const opts = { ...o, ipv6NextHop: '2001:db8::1', ipv6LinkLocalNextHop: 'fe80::1', pathId: 9 };
  for (const n of [1, 3, 20]) {
    corpus.push(
      ...packUpdates(
        attrs,
        Array.from({ length: n }, (_, i) => v4(i)),
        opts,
      ),
    );
    corpus.push(
      ...packUpdates(
        attrs,
        Array.from({ length: n }, (_, i) => v6(i)),
        opts,
      ),
    );
    corpus.push(...packWithdrawals([...Array.from({ length: n }, (_, i) => v4(i)), v6(n)], opts));
  }
  corpus.push(
    encodeMessage(
      {
        type: 'update',
        withdrawn: ['203.0.113.0/24'],
        attributes: {
          ...attrs,
          as4Path: [{ type: 'sequence', asns: [4200000000] }],
          as4Aggregator: { asn: 4200000000, address: '192.0.2.9' },
          mpReach: { afi: 1, safi: 1, nextHop: '192.0.2.1', nlri: ['198.51.100.0/24'] },
          mpUnreach: { afi: 2, safi: 1, withdrawn: ['2001:db8:5::/64'] },
        },
        nlri: ['192.0.2.0/25'],
        withdrawnPathIds: [1],
        nlriPathIds: [2],
      },
      o,
    ),
  );
}
corpus.push(
  encodeMessage(
    createOpen({
      asn: 4200000000,
      bgpId: '192.0.2.1',
      enhancedRouteRefresh: true,
      extendedMessages: true,
      gracefulRestart: {
        restarting: true,
        notification: true,
        restartTime: 90,
        families: [{ afi: 1, safi: 1, forwardingPreserved: true }],
      },
      addPath: [{ afi: 2, safi: 1, sendReceive: 'both' }],
      fqdn: { hostname: 'node', domainName: 'example.org' },
    }),
  ),
  encodeMessage({
    type: 'open',
    version: 4,
    myAsn: 64512,
    holdTime: 90,
    bgpId: '192.0.2.1',
    capabilities: Array.from({ length: 70 }, (_, i) => ({ type: 'multiprotocol', afi: 1, safi: i })),
  }),
  encodeMessage(notifications.administrativeShutdown('fuzz')),
  encodeMessage(notifications.unsupportedCapability(Uint8Array.of(65, 4, 0, 0, 1, 0))),
  encodeMessage({ type: 'keepalive' }),
  encodeMessage({ type: 'route-refresh', afi: 2, safi: 1, subtype: 2 }),
  encodeMessage(endOfRib({ afi: 2, safi: 1 })),
);

// ---- mutations ----
const INTERESTING16 = [0, 1, 2, 3, 4, 5, 18, 19, 22, 23, 28, 29, 255, 256, 4095, 4096, 4097, 65535];
function mutate(input) {
  let b = Uint8Array.from(input);
  const n = 1 + below(4);
  for (let k = 0; k < n && b.length > 0; k++) {
    // mostly past the marker: a broken marker is one check, the bodies are where the parsers are
    const at = b.length > 19 && chance(0.95) ? 16 + below(b.length - 16) : below(b.length);
    switch (below(9)) {
      case 0:
        b[at] ^= 1 << below(8);
        break;
      case 1:
        b[at] = below(256);
        break;
      case 2:
        b = b.slice(0, below(b.length + 1));
        break;
      case 3: // 2-octet length lie at a random position
      case 4: {
        const v = chance(0.7) ? pick(INTERESTING16) : below(65536);
        if (at + 1 < b.length) {
          b[at] = v >>> 8;
          b[at + 1] = v & 255;
        }
        break;
      }
      case 5: // 1-octet length lie (prefix lengths, attribute lengths, capability lengths)
        b[at] = pick([0, 1, 2, 3, 4, 5, 8, 16, 17, 32, 33, 64, 128, 129, 254, 255]);
        break;
      case 6: {
        const ins = Uint8Array.from({ length: 1 + below(8) }, () => below(256));
        const c = new Uint8Array(b.length + ins.length);
        c.set(b.subarray(0, at));
        c.set(ins, at);
        c.set(b.subarray(at), at + ins.length);
        b = c;
        break;
      }
      case 7: {
        const tail = b.subarray(Math.min(b.length, at + 1 + below(8)));
        const c = new Uint8Array(at + tail.length);
        c.set(b.subarray(0, at));
        c.set(tail, at);
        b = c;
        break;
      }
      case 8: {
        // splice: tail of another message
        const o = pick(corpus);
        const from = below(o.length);
        const c = new Uint8Array(at + o.length - from);
        c.set(b.subarray(0, at));
        c.set(o.subarray(from), at);
        b = c;
        break;
      }
    }
  }
  // keep the header length consistent most of the time, so mutations reach the body parsers
  if (chance(0.75) && b.length >= 18) {
    b[16] = (b.length >>> 8) & 255;
    b[17] = b.length & 255;
  }
  return b;
}

function randomMessage() {
  const len = below(chance(0.9) ? 120 : 5000);
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = rand() & 255;
  if (chance(0.8) && len >= 19) {
    b.fill(0xff, 0, 16);
    b[16] = len >>> 8;
    b[17] = len & 255;
    b[18] = 1 + below(5);
  }
  return b;
}

const randomOptions = () => ({
  fourOctetAs: chance(0.7),
  extendedMessages: chance(0.3),
  addPath: chance(0.3) ? { ipv4Unicast: chance(0.5), ipv6Unicast: chance(0.5) } : undefined,
  internal: chance(0.5) ? chance(0.5) : undefined,
});

// ---- run ----
const counts = { total: 0, decoded: 0, bgpError: 0, malformedUpdates: 0, reencoded: 0, streamRuns: 0, failures: 0 };
const byCode = new Map();
const failures = [];
function fail(what, bytes, err, options) {
  counts.failures++;
  if (failures.length < 10)
    failures.push({ what, hex: Buffer.from(bytes).toString('hex'), options, error: String(err?.stack ?? err) });
}

// Expected BgpErrors are the common case here and capturing their stacks dominates the run: stacks are off while
// fuzzing, and failing inputs are replayed with stacks at the end.
const stackTraceLimit = Error.stackTraceLimit;
Error.stackTraceLimit = 0;
const deadline = Date.now() + SECONDS * 1000;
const start = process.hrtime.bigint();
while (counts.total < COUNT) {
  if ((counts.total & 1023) === 0 && Date.now() > deadline) break;
  counts.total++;
  const bytes = chance(0.1) ? randomMessage() : mutate(pick(corpus));
  const o = randomOptions();
  let m;
  try {
    m = decodeMessage(bytes, o);
    counts.decoded++;
  } catch (err) {
    if (err?.name !== 'BgpError' || /internal decoder error/.test(err.message)) fail('decodeMessage', bytes, err, o);
    else {
      counts.bgpError++;
      const k = `${err.code}/${err.subcode}`;
      byCode.set(k, (byCode.get(k) ?? 0) + 1);
    }
  }
  if (m) {
    if (m.type === 'update' && m.malformed) counts.malformedUpdates++;
    if ((counts.total & 7) === 0) {
      try {
        const again = encodeMessage(m, o);
        decodeMessage(again, o);
        counts.reencoded++;
      } catch (err) {
        fail('re-encode/decode of a decoded message', bytes, err);
      }
    }
  }
  if ((counts.total & 63) === 0) {
    // the stream decoder over a few mutated messages cut at random points
    counts.streamRuns++;
    const parts = Array.from({ length: 1 + below(4) }, () => mutate(pick(corpus)));
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      all.set(p, off);
      off += p.length;
    }
    const dec = new MessageDecoder(o);
    try {
      for (let i = 0; i < all.length; ) {
        const n = 1 + below(300);
        dec.feed(all.subarray(i, i + n));
        i += n;
      }
    } catch (err) {
      if (err?.name !== 'BgpError' || /internal decoder error/.test(err.message)) fail('MessageDecoder', all, err);
    }
  }
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
Error.stackTraceLimit = stackTraceLimit;
for (const f of failures) {
  if (f.what !== 'decodeMessage') continue;
  try {
    decodeMessage(Uint8Array.from(Buffer.from(f.hex, 'hex')), f.options);
  } catch (err) {
    f.error = String(err?.stack ?? err);
  }
}
const top = [...byCode.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12);
console.log(`@ingot/bgp codec fuzz: seed ${SEED}, corpus ${corpus.length} messages`);
console.log(
  `${counts.total} inputs in ${seconds.toFixed(1)} s (${Math.round(counts.total / seconds)}/s): ${counts.decoded} decoded ` +
    `(${counts.malformedUpdates} UPDATEs with RFC 7606 malformations, ${counts.reencoded} re-encoded), ` +
    `${counts.bgpError} BgpError, ${counts.streamRuns} stream runs, ${counts.failures} failures`,
);
console.log(`BgpError code/subcode (top): ${top.map(([k, v]) => `${k}: ${v}`).join(', ')}`);
console.log(
  JSON.stringify({
    fuzz: 'codec',
    seed: SEED,
    seconds: +seconds.toFixed(1),
    ...counts,
    byCode: Object.fromEntries(byCode),
  }),
);
if (failures.length) {
  for (const f of failures)
    console.log(`FAIL ${f.what} (options ${JSON.stringify(f.options)}): ${f.hex}\n  ${f.error}`);
  process.exit(1);
}
