// Reference for bench/run.mjs: the floor of any user-space ARP responder on this machine. One thread blocked in
// recv() on an AF_PACKET socket (koffi, synchronous), no event loop, no decoding beyond four byte checks, the reply
// written in place and sent at once. Whatever a real responder adds (an event loop that also serves BGP, gossip and
// the API; counters; events) comes on top of this; what this pays (the thread wake-up, two syscalls) no user-space
// responder can avoid. It cannot answer signals while blocked, so it reports nothing: SIGTERM ends it.
// Usage (in the target namespace, as root): node floor-responder.mjs IFACE VIP [--realtime-priority N [--realtime-cpu C]]
import { readFileSync } from 'node:fs';
import koffi from 'koffi';
import { raiseRealtimePriority } from '../dist/index.js';

const [iface, vip, ...rest] = process.argv.slice(2);
const opt = (name) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? Number(rest[i + 1]) : undefined;
};
const l = koffi.load('libc.so.6');
const c = {
  socket: l.func('int socket(int, int, int)'),
  bind: l.func('int bind(int, const uint8_t *, int)'),
  setsockopt: l.func('int setsockopt(int, int, int, const uint8_t *, int)'),
  recv: l.func('long recv(int, _Out_ uint8_t *, unsigned long, int)'),
  send: l.func('long send(int, const uint8_t *, unsigned long, int)'),
  if_nametoindex: l.func('unsigned int if_nametoindex(const char *)'),
};
const AF_PACKET = 17;
const SOCK_RAW = 3;
const ETH_P_ARP = 0x0806;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const fd = c.socket(AF_PACKET, SOCK_RAW, ((ETH_P_ARP & 0xff) << 8) | (ETH_P_ARP >> 8));
if (fd < 0) throw new Error('socket(AF_PACKET) failed: needs CAP_NET_RAW');
const sll = new Uint8Array(20);
const sllView = new DataView(sll.buffer);
sllView.setUint16(0, AF_PACKET, true);
sllView.setUint16(2, ETH_P_ARP, false);
sllView.setInt32(4, c.if_nametoindex(iface), true);
if (c.bind(fd, sll, sll.length) < 0) throw new Error(`bind to ${iface} failed`);
// Wake up every 200 ms without traffic, so the run-time bound below holds on a quiet link.
const tv = new Uint8Array(16);
new DataView(tv.buffer).setBigInt64(8, 200_000n, true);
c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, tv.length);

const mac = readFileSync(`/sys/class/net/${iface}/address`, 'utf8')
  .trim()
  .split(':')
  .map((h) => Number.parseInt(h, 16));
const [v0, v1, v2, v3] = vip.split('.').map(Number);
const rtPriority = opt('realtime-priority');
const rtCpu = opt('realtime-cpu');
const realtime =
  rtPriority === undefined
    ? null
    : raiseRealtimePriority({ priority: rtPriority, ...(rtCpu === undefined ? {} : { cpu: rtCpu }) });
console.log(JSON.stringify({ ready: true, pid: process.pid, interfaces: [iface], realtime }));

const frame = new Uint8Array(2048);
const reply = new Uint8Array(42);
reply.set(mac, 6);
reply.set([0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02], 12);
reply.set(mac, 22);
const end = Date.now() + 600_000; // a benchmark run is far shorter; never outlive it by much
while (Date.now() < end) {
  const n = c.recv(fd, frame, frame.length, 0);
  if (n < 42 || frame[12] !== 0x08 || frame[13] !== 0x06 || frame[21] !== 1) continue;
  if (frame[38] !== v0 || frame[39] !== v1 || frame[40] !== v2 || frame[41] !== v3) continue;
  reply.set(frame.subarray(6, 12), 0); // to the requester
  reply.set(frame.subarray(38, 42), 28); // SPA = the asked-for IP
  reply.set(frame.subarray(22, 32), 32); // THA, TPA = the requester's SHA, SPA
  c.send(fd, reply, reply.length, 0);
}
