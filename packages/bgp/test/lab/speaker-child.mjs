// A BgpSpeaker in a child process (run in a lab namespace with host.fork), driven over IPC.
// Imports the built package (build first: cd packages/bgp && npx tsup).
//
// Requests: { id, cmd, ...args } → reply { id, ok: true, result } or { id, ok: false, error }.
//   start { speaker: SpeakerOptions, peers?: PeerOptions[] }     announce { prefix, options }
//   announceRange { base, count, options } (IPv4 /32s from base)  withdraw { prefix }  withdrawRange { base, count }
//   addPeer { options }  removePeer { address }  resetPeer { address }  peers  bfd { address }  close { communication? }
//   discover { interface, timeoutMs? } (BGP unnumbered: LinkLocalDiscovery on the interface → the router's link-local)
// Events: { event: 'state' | 'established' | 'down' | 'notification' | 'routeRefresh' | 'warning' | 'bfd', address, ... }.

import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

// INGOT_BGP_DIST lets the benchmark run a private copy of the build (immune to a concurrent rebuild).
const { BgpSpeaker, LinkLocalDiscovery } = await import(
  process.env.INGOT_BGP_DIST ? pathToFileURL(process.env.INGOT_BGP_DIST).href : '../../dist/index.js'
);

/** @type {BgpSpeaker | undefined} */
let speaker;
/** Running neighbour discoveries (closed with the speaker). */
const discoveries = [];

const send = (m) => process.send?.(m);
/** Wall-clock milliseconds with sub-millisecond precision (comparable across processes). */
const epoch = () => performance.timeOrigin + performance.now();

/** IPv4 /32s from `base` upward, generated lazily (no array of `count` strings). */
function* ipv4Range(base, count) {
  const [a, b, c, d] = base.split('.').map(Number);
  const start = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  for (let i = 0; i < count; i++) {
    const n = (start + i) >>> 0;
    yield `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/32`;
  }
}

function peerSummary(p) {
  return {
    address: p.address,
    state: p.state,
    counters: { ...p.counters },
    session: p.session,
    lastError: p.lastError,
  };
}

function wire(peer) {
  const address = peer.address;
  peer.on('state', (to, from) => send({ event: 'state', address, to, from, at: epoch() }));
  peer.on('established', (info) => send({ event: 'established', address, info, at: epoch() }));
  peer.on('down', (reason) => send({ event: 'down', address, reason: { ...reason, error: reason.error?.message } }));
  peer.on('notification', (n) =>
    send({ event: 'notification', address, direction: n.direction, code: n.code, subcode: n.subcode, at: epoch() }),
  );
  peer.on('routeRefresh', (m) => send({ event: 'routeRefresh', address, afi: m.afi, safi: m.safi }));
  peer.on('warning', (message, err) => send({ event: 'warning', address, message, error: err?.message }));
  peer.on('sent', (r) => send({ event: 'sent', address, ...r, at: epoch() }));
  peer.on('bfd', (state, diagnostic) => send({ event: 'bfd', address, state, diagnostic, at: epoch() }));
}

const handlers = {
  async start({ speaker: options, peers = [] }) {
    speaker = new BgpSpeaker(options);
    speaker.on('warning', (message, err) => send({ event: 'warning', message, error: err?.message }));
    speaker.on('peerAdded', wire);
    const listening = await speaker.listening();
    for (const p of peers) speaker.addPeer(p);
    return { listening, pid: process.pid };
  },
  announce({ prefix, options }) {
    const at = epoch();
    speaker.announce(prefix, options);
    return { at };
  },
  announceRange({ base, count, options }) {
    const t0 = performance.now();
    for (const p of ipv4Range(base, count)) speaker.announce(p, options);
    return { at: epoch(), ms: performance.now() - t0 };
  },
  withdraw({ prefix }) {
    return speaker.withdraw(prefix);
  },
  withdrawRange({ base, count }) {
    for (const p of ipv4Range(base, count)) speaker.withdraw(p);
    return true;
  },
  addPeer({ options }) {
    return peerSummary(speaker.addPeer(options));
  },
  removePeer({ address }) {
    return speaker.removePeer(address);
  },
  resetPeer({ address }) {
    speaker.getPeer(address)?.reset();
    return true;
  },
  peers() {
    return speaker.peers.map(peerSummary);
  },
  bfd({ address }) {
    const s = speaker.bfdSession(address);
    return (
      s && {
        state: s.state.name,
        diagnostic: s.state.diagnostic,
        detectionTimeUs: s.detectionTimeUs,
        transmitIntervalUs: s.transmitIntervalUs,
        echoIntervalUs: s.echoIntervalUs,
        counters: s.counters,
      }
    );
  },
  memory({ gc = false } = {}) {
    if (gc) {
      v8.setFlagsFromString('--expose_gc');
      vm.runInNewContext('gc')();
    }
    return process.memoryUsage();
  },
  async discover({ interface: ifname, timeoutMs = 30_000 }) {
    const d = new LinkLocalDiscovery({ interface: ifname });
    discoveries.push(d);
    d.on('warning', (message, err) => send({ event: 'warning', message, error: err?.message }));
    await d.start();
    return await d.waitNeighbor(timeoutMs);
  },
  async close({ communication }) {
    for (const d of discoveries) d.close();
    await speaker?.close(communication);
    setTimeout(() => process.exit(0), 50);
    return true;
  },
};

process.on('message', async (msg) => {
  const { id, cmd, ...args } = msg ?? {};
  const h = handlers[cmd];
  if (!h) {
    send({ id, ok: false, error: `unknown command ${cmd}` });
    return;
  }
  try {
    send({ id, ok: true, result: await h(args) });
  } catch (err) {
    send({ id, ok: false, error: String(err?.stack ?? err) });
  }
});

process.on('disconnect', () => process.exit(0));
send({ event: 'ready', pid: process.pid });
