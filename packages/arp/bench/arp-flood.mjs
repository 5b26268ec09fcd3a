// Paced ARP request (or, with --ndp, Neighbor Solicitation) flood with per-request latency, for bench/run.mjs. Node +
// koffi, no compiler; run as root (or with CAP_NET_RAW) inside the flooding namespace.
//
//   node bench/arp-flood.mjs IFACE TARGET_IP --src-ip UNUSED_IP --rate PPS --duration S [--ndp]
//        [--grace S] [--max-lag-ms 2] [--batch 4] [--catch-up 2] [--spin-us 100] [--slow-us 200]
//
// Request i carries the unique locally administered sender MAC 02:00:<i as 4 bytes> (Ethernet source and SHA), so each
// reply (THA) names its request. With --ndp, TARGET_IP and UNUSED_IP are IPv6: request i is an NS for the target, to
// its solicited-node group, with the source link-layer option 02:00:<i>; the advertisement goes back to that MAC. Latency is measured as by arp-flood.py: the kernel receive timestamp of the reply
// minus the kernel timestamp of our own outgoing copy of the request, both seen by one ETH_P_ALL socket with
// SO_TIMESTAMPNS (classic BPF keeps only ARP); when the copy was missed, the clock read just before sendmmsg().
//
// Pacing: request i is due at t0 + i/rate (absolute schedule, read with process.hrtime.bigint). The flooder sleeps
// (clock_nanosleep, 1 ns timer slack) until `spin-us` before the next deadline, then spins; meanwhile it drains replies
// with recvmmsg. Requests that are due go out with sendmmsg. Catching up after a stall is bounded in two ways:
//   - a request more than `max-lag-ms` overdue is skipped (not sent) and counted in `skipped`;
//   - overdue requests are sent no faster than `catch-up` × rate, at most `batch` back to back (a token bucket).
// So the highest send rate over any 1 ms window is at most catch-up × rate + batch per ms (100,004/s at 50,000/s),
// never the 150-210k/s catch-up bursts of an unbounded absolute schedule. Bounded: at most rate × duration frames
// (never more than 2,000,000), sending stops by duration + max-lag, then `grace` seconds of receiving. Prints one JSON
// object with the keys of arp-flood.py plus skipped, send_lag_us, flooder_cpu_pct and slow: the requests answered
// later than `slow-us` (default 200, the p99 target), grouped into episodes (slow requests sent within 1 ms of each
// other), which tells a few stalls of the responder apart from a steady-state cost.
import koffi from 'koffi';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const [iface, target] = args;
const srcIp = opt('src-ip');
const rate = Number(opt('rate'));
const duration = Number(opt('duration'));
const grace = Number(opt('grace', '1'));
const maxLagNs = Number(opt('max-lag-ms', '2')) * 1e6;
const batchMax = Number(opt('batch', '4'));
const catchUp = Number(opt('catch-up', '2'));
const spinNs = Number(opt('spin-us', '100')) * 1e3;
const slowUs = Number(opt('slow-us', '200'));
const ndp = args.includes('--ndp');
if (!iface || !target || !srcIp || !(rate > 0) || !(duration > 0)) {
  console.error('usage: arp-flood.mjs IFACE TARGET_IP --src-ip IP --rate PPS --duration S');
  process.exit(2);
}
if (!(batchMax >= 1 && batchMax <= 64) || !(catchUp >= 1) || !(maxLagNs >= 0)) {
  console.error('--batch must be 1-64, --catch-up >= 1, --max-lag-ms >= 0');
  process.exit(2);
}
const total = Math.floor(rate * duration);
if (total > 2_000_000) {
  console.error('refusing to send more than 2,000,000 frames');
  process.exit(2);
}
const ipv4 = (s) => s.split('.').map(Number);
/** 16 bytes of an IPv6 address (full or with one ::). */
const ipv6 = (s) => {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const words = (t) => (t ? t.split(':').map((w) => Number.parseInt(w, 16)) : []);
  const h = words(head);
  const t = words(tail);
  const all = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((w) => [w >> 8, w & 0xff]);
};
const spa = ndp ? ipv6(srcIp) : ipv4(srcIp);
const tpa = ndp ? ipv6(target) : ipv4(target);

// --- libc through koffi -------------------------------------------------------------------------------------------
const l = koffi.load('libc.so.6');
const c = {
  socket: l.func('int socket(int, int, int)'),
  bind: l.func('int bind(int, const void *, uint32_t)'),
  setsockopt: l.func('int setsockopt(int, int, int, const void *, uint32_t)'),
  setsockoptPtr: l.func('setsockopt', 'int', ['int', 'int', 'int', 'uintptr_t', 'uint32_t']),
  getsockopt: l.func('int getsockopt(int, int, int, _Inout_ void *, _Inout_ int *)'),
  sendmmsg: l.func('int sendmmsg(int, uintptr_t, unsigned int, int)'),
  recvmmsg: l.func('int recvmmsg(int, uintptr_t, unsigned int, int, void *)'),
  close: l.func('int close(int)'),
  if_nametoindex: l.func('uint32_t if_nametoindex(const char *)'),
  clock_gettime: l.func('int clock_gettime(int, _Out_ void *)'),
  clock_nanosleep: l.func('int clock_nanosleep(int, int, const void *, void *)'),
  prctl: l.func('int prctl(int, ...)'),
};
const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_TIMESTAMPNS = 35; // also SCM_TIMESTAMPNS
const SO_RCVBUFFORCE = 33;
const SO_ATTACH_FILTER = 26;
const SOL_PACKET = 263;
const PACKET_STATISTICS = 6;
const ETH_P_ALL = 0x0003;
const ETH_P_ARP = 0x0806;
const ETH_P_IPV6 = 0x86dd;
const MSG_DONTWAIT = 0x40;
const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;
const TIMER_ABSTIME = 1;
const PR_SET_TIMERSLACK = 29;
const htons = (x) => ((x & 0xff) << 8) | (x >> 8);
const die = (what) => {
  const e = koffi.errno();
  const name = Object.entries(koffi.os.errno).find(([, v]) => v === e)?.[0] ?? `errno ${e}`;
  console.error(`arp-flood: ${what}: ${name}`);
  process.exit(1);
};

const ifindex = c.if_nametoindex(iface);
if (!ifindex) die(`if_nametoindex(${iface})`);
c.prctl(PR_SET_TIMERSLACK, 'unsigned long', 1); // sleep to the nanosecond asked, not the default 50 µs later

// --- native memory: TX ring, RX ring, BPF program, scratch -----------------------------------------------------------
const TX_SLOT = 96; // a 60-byte ARP frame (42 + padding, as arp-flood.py sends) or an 86-byte NS
const TX_LEN = ndp ? 86 : 60;
const RX_SLOTS = 64;
const RX_SLOT = 96; // only the first 42 (ARP) or 78 (NS/NA) bytes matter (MSG_TRUNC is fine)
const CTL = 64; // CMSG_SPACE(sizeof(struct timespec)) = 32, with room
const layout = {};
let size = 0;
const region = (name, bytes) => {
  layout[name] = size;
  size += Math.ceil(bytes / 16) * 16;
};
region('txData', batchMax * TX_SLOT);
region('txIov', batchMax * 16);
region('txHdr', batchMax * 64);
region('txAddr', 20);
region('rxData', RX_SLOTS * RX_SLOT);
region('rxCtl', RX_SLOTS * CTL);
region('rxIov', RX_SLOTS * 16);
region('rxHdr', RX_SLOTS * 64);
region('bpf', 4 * 8);
region('fprog', 16);
region('ts', 16);
const mem = koffi.alloc('uint8_t', size);
const base = koffi.address(mem);
const bytes = new Uint8Array(koffi.view(mem, size));
bytes.fill(0);
const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const addr = (name, off = 0) => base + BigInt(layout[name] + off);

// TX: batchMax frames, each with its iovec and mmsghdr naming the interface (sockaddr_ll), prepared once.
dv.setUint16(layout.txAddr, AF_PACKET, true);
dv.setUint16(layout.txAddr + 2, htons(ndp ? ETH_P_IPV6 : ETH_P_ARP), true);
dv.setInt32(layout.txAddr + 4, ifindex, true);
dv.setUint8(layout.txAddr + 11, 6); // sll_halen
// NS: the solicited-node group ff02::1:ffXX:XXXX of the target, and the checksum of request 0, to which request i adds
// its 4 bytes of MAC (in the source link-layer option) in one's complement arithmetic.
const group = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, tpa[13], tpa[14], tpa[15]];
let nsSum = 0;
if (ndp) {
  const words = [
    ...spa,
    ...group,
    0,
    0,
    0,
    32,
    0,
    0,
    0,
    58,
    135,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    ...tpa,
    1,
    1,
    0x02,
    0x00,
    0,
    0,
    0,
    0,
  ];
  for (let i = 0; i < words.length; i += 2) nsSum += (words[i] << 8) | words[i + 1];
}
const nsChecksum = (q) => {
  let sum = nsSum + (q >>> 16) + (q & 0xffff);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
};
for (let k = 0; k < batchMax; k++) {
  const f = layout.txData + k * TX_SLOT;
  if (ndp) {
    bytes.set([0x33, 0x33, 0xff, tpa[13], tpa[14], tpa[15]], f); // the group's MAC
    bytes.set([0x02, 0x00], f + 6); // source MAC 02:00:<i>
    bytes.set([0x86, 0xdd, 0x60, 0, 0, 0, 0, 32, 58, 255], f + 12); // IPv6, payload 32, ICMPv6, hop limit 255
    bytes.set(spa, f + 22);
    bytes.set(group, f + 38);
    bytes.set([135, 0], f + 54); // NS, code 0; checksum at 56; reserved
    bytes.set(tpa, f + 62);
    bytes.set([1, 1, 0x02, 0x00], f + 78); // source link-layer option: 02:00:<i>
  } else {
    bytes.fill(0xff, f, f + 6); // broadcast
    bytes.set([0x02, 0x00], f + 6); // source MAC 02:00:<i>
    bytes.set([0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01], f + 12); // ARP, Ethernet/IPv4, request
    bytes.set([0x02, 0x00], f + 22); // SHA 02:00:<i>
    bytes.set(spa, f + 28);
    bytes.set(tpa, f + 38); // THA zero, padding zero
  }
  const iov = layout.txIov + k * 16;
  dv.setBigUint64(iov, addr('txData', k * TX_SLOT), true);
  dv.setBigUint64(iov + 8, BigInt(TX_LEN), true);
  const h = layout.txHdr + k * 64; // struct msghdr (56 bytes) + msg_len, 64 aligned
  dv.setBigUint64(h, addr('txAddr'), true); // msg_name
  dv.setUint32(h + 8, 20, true); // msg_namelen
  dv.setBigUint64(h + 16, addr('txIov', k * 16), true);
  dv.setBigUint64(h + 24, 1n, true);
}
// RX: RX_SLOTS frames with a control buffer each (the kernel timestamp).
for (let k = 0; k < RX_SLOTS; k++) {
  const iov = layout.rxIov + k * 16;
  dv.setBigUint64(iov, addr('rxData', k * RX_SLOT), true);
  dv.setBigUint64(iov + 8, BigInt(RX_SLOT), true);
  const h = layout.rxHdr + k * 64;
  dv.setBigUint64(h + 16, addr('rxIov', k * 16), true);
  dv.setBigUint64(h + 24, 1n, true);
  dv.setBigUint64(h + 32, addr('rxCtl', k * CTL), true); // msg_control
  dv.setBigUint64(h + 40, BigInt(CTL), true); // msg_controllen (reset before every recvmmsg)
}
// Classic BPF: ldh [12]; jeq #ARP (or #IPv6); ret #0xffff; ret #0.
const bpf = [
  [0x28, 0, 0, 12],
  [0x15, 0, 1, ndp ? ETH_P_IPV6 : ETH_P_ARP],
  [0x06, 0, 0, 0xffff],
  [0x06, 0, 0, 0],
];
bpf.forEach(([code, jt, jf, k], n) => {
  const o = layout.bpf + n * 8;
  dv.setUint16(o, code, true);
  dv.setUint8(o + 2, jt);
  dv.setUint8(o + 3, jf);
  dv.setUint32(o + 4, k, true);
});
dv.setUint16(layout.fprog, bpf.length, true);
dv.setBigUint64(layout.fprog + 8, addr('bpf'), true);

// --- sockets ------------------------------------------------------------------------------------------------------
// RX: every ARP (or IPv6) frame on the interface, both directions (our requests' outgoing copies carry their kernel timestamps).
const rx = c.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
if (rx < 0) die('socket(AF_PACKET) (needs CAP_NET_RAW)');
if (c.setsockoptPtr(rx, SOL_SOCKET, SO_ATTACH_FILTER, addr('fprog'), 16) < 0) die('SO_ATTACH_FILTER');
const int = (v) => new Uint8Array(new Int32Array([v]).buffer);
if (c.setsockopt(rx, SOL_SOCKET, SO_TIMESTAMPNS, int(1), 4) < 0) die('SO_TIMESTAMPNS');
c.setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, int(64 << 20), 4);
const sll = new Uint8Array(20);
new DataView(sll.buffer).setUint16(0, AF_PACKET, true);
new DataView(sll.buffer).setUint16(2, htons(ETH_P_ALL), true);
new DataView(sll.buffer).setInt32(4, ifindex, true);
if (c.bind(rx, sll, 20) < 0) die('bind rx');
const packetStats = () => {
  const b = new Uint8Array(8);
  c.getsockopt(rx, SOL_PACKET, PACKET_STATISTICS, b, new Int32Array([8]));
  return new DataView(b.buffer).getUint32(4, true); // drops since the last read
};
packetStats(); // reset
// TX: protocol 0, so it queues nothing it would never read; every message names the interface and EtherType.
const tx = c.socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
if (tx < 0) die('socket(AF_PACKET) tx');

// --- clocks -------------------------------------------------------------------------------------------------------
const hr = process.hrtime.bigint; // CLOCK_MONOTONIC
const tsBuf = new Uint8Array(16);
const tsDv = new DataView(tsBuf.buffer);
// Kernel timestamps are CLOCK_REALTIME: keep them as ns since `epochSec` (fits a double exactly), and map our
// monotonic send times onto the same scale for the fallback.
c.clock_gettime(CLOCK_REALTIME, tsBuf);
const m1 = hr();
const epochSec = tsDv.getBigInt64(0, true);
const realAtM = Number(tsDv.getBigInt64(8, true)); // realtime ns (since epochSec) at monotonic m1
const sleepTs = new Uint8Array(16);
const sleepDv = new DataView(sleepTs.buffer);
function sleepUntil(monoNs) {
  sleepDv.setBigInt64(0, monoNs / 1_000_000_000n, true);
  sleepDv.setBigInt64(8, monoNs % 1_000_000_000n, true);
  c.clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, sleepTs, null);
}

// --- per-request state ----------------------------------------------------------------------------------------------
const sendAt = new Float64Array(total).fill(Number.NaN); // monotonic ns since t0; NaN: not sent (skipped / tx error)
const txStamp = new Float64Array(total); // kernel ns (since epochSec) of our outgoing copy, 0 if not seen
const rxStamp = new Float64Array(total); // kernel ns of the reply, 0 if none
let replies = 0;
let dup = 0;
let foreign = 0;
let txErrors = 0;
let sent = 0;
let skipped = 0;
let late = 0;

function drain() {
  for (;;) {
    const n = c.recvmmsg(rx, addr('rxHdr'), RX_SLOTS, MSG_DONTWAIT, null);
    if (n <= 0) return;
    for (let k = 0; k < n; k++) {
      const h = layout.rxHdr + k * 64;
      const f = layout.rxData + k * RX_SLOT;
      const len = dv.getUint32(h + 56, true);
      const ctlLen = Number(dv.getBigUint64(h + 40, true));
      dv.setBigUint64(h + 40, BigInt(CTL), true);
      if (len < (ndp ? 78 : 42)) continue;
      let ts = 0;
      for (let o = 0; o + 16 <= ctlLen; ) {
        const cl = Number(dv.getBigUint64(layout.rxCtl + k * CTL + o, true));
        if (cl < 16) break;
        const lvl = dv.getInt32(layout.rxCtl + k * CTL + o + 8, true);
        const typ = dv.getInt32(layout.rxCtl + k * CTL + o + 12, true);
        if (lvl === SOL_SOCKET && typ === SO_TIMESTAMPNS && cl >= 32) {
          const s = dv.getBigInt64(layout.rxCtl + k * CTL + o + 16, true);
          ts = Number(s - epochSec) * 1e9 + Number(dv.getBigInt64(layout.rxCtl + k * CTL + o + 24, true));
        }
        o += (cl + 7) & ~7;
      }
      if (ndp) {
        const type = bytes[f + 54];
        if (bytes[f + 12] !== 0x86 || bytes[f + 13] !== 0xdd || bytes[f + 20] !== 58) continue;
        if (type === 135) {
          if (bytes[f + 6] === 0x02 && bytes[f + 7] === 0x00) {
            const q = dv.getUint32(f + 8);
            if (q < total) txStamp[q] = ts;
          }
          continue;
        }
        let ok = type === 136 && bytes[f] === 0x02 && bytes[f + 1] === 0x00;
        for (let i = 0; i < 16 && ok; i++) if (bytes[f + 62 + i] !== tpa[i]) ok = false;
        if (!ok) {
          foreign++;
          continue;
        }
        const q = dv.getUint32(f + 2);
        if (q >= total || Number.isNaN(sendAt[q])) foreign++;
        else if (rxStamp[q] !== 0) dup++;
        else {
          rxStamp[q] = ts || realAtM + Number(hr() - m1);
          replies++;
        }
        continue;
      }
      const op = dv.getUint16(f + 20);
      if (op === 1) {
        if (bytes[f + 22] === 0x02 && bytes[f + 23] === 0x00) {
          const q = dv.getUint32(f + 24);
          if (q < total) txStamp[q] = ts;
        }
        continue;
      }
      const ours =
        op === 2 &&
        bytes[f + 28] === tpa[0] &&
        bytes[f + 29] === tpa[1] &&
        bytes[f + 30] === tpa[2] &&
        bytes[f + 31] === tpa[3] &&
        bytes[f + 32] === 0x02 &&
        bytes[f + 33] === 0x00;
      if (!ours) {
        foreign++;
        continue;
      }
      const q = dv.getUint32(f + 34);
      if (q >= total || Number.isNaN(sendAt[q])) foreign++;
      else if (rxStamp[q] !== 0) dup++;
      else {
        rxStamp[q] = ts || realAtM + Number(hr() - m1); // no timestamp: now, on the realtime scale
        replies++;
      }
    }
    if (n < RX_SLOTS) return;
  }
}

// --- the paced send loop --------------------------------------------------------------------------------------------
const interval = 1e9 / rate;
const tokenNs = interval / catchUp; // one send token per 1 / (catch-up × rate)
let tokens = 1;
let tokensAt = 0;
let next = 0; // first request not yet sent or skipped
let lastDrain = 0;
const cpu0 = process.cpuUsage();
const t0 = hr();
const monoToReal = realAtM + Number(t0 - m1); // realtime ns of t0 (since epochSec)
for (;;) {
  let now = Number(hr() - t0);
  // Skip what is more than max-lag overdue: deadline(i) = i × interval < now - maxLag.
  const firstLive = Math.min(total, Math.max(0, Math.ceil((now - maxLagNs) / interval)));
  if (next < firstLive) {
    skipped += firstLive - next;
    next = firstLive;
  }
  if (next >= total) break;
  const due = Math.min(total, Math.floor(now / interval) + 1) - next; // requests whose deadline has passed
  if (due > 0) {
    tokens = Math.min(batchMax, tokens + (now - tokensAt) / tokenNs);
    tokensAt = now;
    const n = Math.min(due, batchMax, Math.floor(tokens));
    if (n >= 1) {
      for (let k = 0; k < n; k++) {
        const q = next + k;
        const f = layout.txData + k * TX_SLOT;
        dv.setUint32(f + 8, q);
        if (ndp) {
          dv.setUint32(f + 82, q);
          dv.setUint16(f + 56, nsChecksum(q));
        } else dv.setUint32(f + 24, q);
      }
      now = Number(hr() - t0);
      const r = c.sendmmsg(tx, addr('txHdr'), n, MSG_DONTWAIT);
      const ok = Math.max(r, 0);
      for (let k = 0; k < ok; k++) {
        const q = next + k;
        sendAt[q] = now;
        if (now - q * interval > 100_000) late++;
      }
      sent += ok;
      txErrors += n - ok;
      tokens -= n;
      next += n;
      if (now - lastDrain > 1e6) {
        drain(); // even when always behind, read replies at least every millisecond
        lastDrain = now;
      }
      continue;
    }
  }
  drain();
  lastDrain = now;
  // Ahead of schedule (or out of tokens): wait for the next deadline / token.
  const wake = Math.max(next * interval, tokensAt + (1 - tokens) * tokenNs);
  const ahead = wake - Number(hr() - t0);
  if (ahead > spinNs) sleepUntil(t0 + BigInt(Math.floor(wake - spinNs)));
}
const elapsed = Number(hr() - t0);
const cpu = process.cpuUsage(cpu0);
const graceEnd = Number(hr()) + grace * 1e9;
while (Number(hr()) < graceEnd) {
  drain();
  sleepUntil(hr() + 1_000_000n);
}
drain();
const rxDrops = packetStats();
c.close(rx);
c.close(tx);

// --- results --------------------------------------------------------------------------------------------------------
const lat = [];
const lag = [];
let kernelTxStamps = 0;
// worst: the 5 longest episodes as [start ms after t0, length ms, slow requests].
const slow = { over_us: slowUs, requests: 0, episodes: 0, longest_ms: 0, worst: [] };
const episodes = [];
let episodeStart = Number.NEGATIVE_INFINITY;
let episodeEnd = Number.NEGATIVE_INFINITY;
for (let q = 0; q < total; q++) {
  if (Number.isNaN(sendAt[q])) continue;
  lag.push((sendAt[q] - q * interval) / 1e3);
  if (rxStamp[q] === 0) continue;
  if (txStamp[q]) kernelTxStamps++;
  const us = (rxStamp[q] - (txStamp[q] || monoToReal + sendAt[q])) / 1e3;
  lat.push(us);
  if (us > slowUs) {
    slow.requests++;
    if (sendAt[q] - episodeEnd > 1e6) {
      slow.episodes++;
      episodeStart = sendAt[q];
      episodes.push([Math.round(episodeStart / 1e5) / 10, 0, 0]);
    }
    episodeEnd = sendAt[q];
    const e = episodes[episodes.length - 1];
    e[1] = Math.max(e[1], Math.round((episodeEnd - episodeStart + us * 1e3) / 1e5) / 10);
    e[2]++;
    slow.longest_ms = Math.max(slow.longest_ms, e[1]);
  }
}
slow.worst = episodes.sort((a, b) => b[1] - a[1]).slice(0, 5);
const sortNum = (a) => Float64Array.from(a).sort();
const latS = sortNum(lat);
const lagS = sortNum(lag);
const pct = (a, p) =>
  a.length ? Math.round(a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))] * 10) / 10 : null;
// Highest number of sends in any 1 ms window.
const times = sortNum(Array.from(sendAt).filter((x) => !Number.isNaN(x)));
let burst = 0;
for (let k = 0, j = 0; k < times.length; k++) {
  while (times[k] - times[j] > 1e6) j++;
  burst = Math.max(burst, k - j + 1);
}
console.log(
  JSON.stringify({
    flooder: 'node',
    target,
    rate,
    sent,
    skipped,
    scheduled: total,
    achieved_pps: elapsed ? Math.round((sent / (elapsed / 1e9)) * 10) / 10 : null,
    replies,
    reply_ratio: sent ? Math.round((replies / sent) * 1e5) / 1e5 : null,
    duplicates: dup,
    foreign,
    tx_errors: txErrors,
    rx_socket_drops: rxDrops,
    kernel_tx_stamps: kernelTxStamps,
    late_sends: late,
    max_pps_1ms: burst * 1000,
    send_lag_us: {
      p50: pct(lagS, 50),
      p99: pct(lagS, 99),
      max: lagS.length ? Math.round(lagS[lagS.length - 1]) : null,
    },
    flooder_cpu_pct: Math.round(((cpu.user + cpu.system) / (elapsed / 1e3)) * 1000) / 10,
    slow,
    pacing: { max_lag_ms: maxLagNs / 1e6, batch: batchMax, catch_up: catchUp, spin_us: spinNs / 1e3 },
    lat_us: { p50: pct(latS, 50), p90: pct(latS, 90), p99: pct(latS, 99), max: pct(latS, 100) },
  }),
);
