// Long-running fuzz of the decoders (the unit suite runs a few thousand cases; this runs millions, bounded in time).
// Asserts that decoders throw nothing but CodecError, and that whatever decodes re-encodes to a frame that decodes to
// the same value. Usage: node bench/fuzz.mjs [--seconds 60] [--seed N]   (build first: npx tsup)
import { CodecError, decodeArp, decodeFrame, decodeNdp, encodeArp, encodeNdp } from '../dist/index.js';

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : d);
const seconds = Number(opt('seconds', '60'));
let seed = Number(opt('seed', String(Date.now() % 2 ** 31)));
const rand = () => {
  // xorshift32: reproducible with --seed
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const startSeed = seed;

// Valid seeds to mutate: an ARP request and an NS with options, in Ethernet frames.
const arpBody = encodeArp({
  operation: 1,
  senderMac: '02:00:00:00:00:01',
  senderIp: '192.0.2.1',
  targetMac: '00:00:00:00:00:00',
  targetIp: '192.0.2.2',
});
const ndpBody = encodeNdp({
  source: 'fe80::1',
  destination: 'ff02::1:ff00:2',
  message: {
    type: 'neighbor-solicitation',
    target: '2001:db8::2',
    options: [{ type: 'source-lla', mac: '02:00:00:00:00:01' }],
  },
});
const eth = (type, body) => {
  const f = new Uint8Array(14 + body.length);
  f.fill(0xff, 0, 6);
  f.set([2, 0, 0, 0, 0, 1], 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f.set(body, 14);
  return f;
};
const seeds = [eth(0x0806, arpBody), eth(0x86dd, ndpBody)];

let cases = 0;
let decoded = 0;
const errors = new Map();
const end = Date.now() + seconds * 1000;
const big = new Uint8Array(4096);
while (Date.now() < end) {
  for (let k = 0; k < 1000; k++) {
    cases++;
    let f;
    if (rand() < 0.2) {
      f = new Uint8Array(Math.floor(rand() * 120));
      for (let i = 0; i < f.length; i++) f[i] = rand() * 256;
    } else {
      f = seeds[rand() < 0.5 ? 0 : 1].slice();
      const flips = 1 + Math.floor(rand() * 4);
      for (let j = 0; j < flips; j++) f[Math.floor(rand() * f.length)] = rand() * 256;
      if (rand() < 0.3) f = f.subarray(0, Math.floor(rand() * f.length));
    }
    // Place at a random offset in a larger buffer.
    const off = Math.floor(rand() * 16);
    big.fill(0xee);
    big.set(f, off);
    const view = big.subarray(off, off + f.length);
    try {
      const d = decodeFrame(view);
      decoded++;
      const again = d.kind === 'arp' ? decodeArp(encodeArp(d.arp)) : decodeNdp(encodeNdp(d.ndp));
      const same = JSON.stringify(again, (_, v) => (v instanceof Uint8Array ? [...v] : v));
      const orig = JSON.stringify(d.kind === 'arp' ? d.arp : d.ndp, (_, v) => (v instanceof Uint8Array ? [...v] : v));
      if (same !== orig) throw new Error(`re-encode mismatch (seed ${startSeed}, case ${cases}): ${orig} vs ${same}`);
    } catch (e) {
      if (!(e instanceof CodecError)) {
        console.error(`non-CodecError (seed ${startSeed}, case ${cases}, frame ${Buffer.from(f).toString('hex')}):`, e);
        process.exit(1);
      }
      const key = `${e.protocol}:${e.code}`;
      errors.set(key, (errors.get(key) ?? 0) + 1);
    }
  }
}
console.log(
  JSON.stringify({ seed: startSeed, seconds, cases, decoded, errors: Object.fromEntries([...errors].sort()) }),
);
