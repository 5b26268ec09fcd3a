/**
 * @internal The answer thread's code. These functions are self-contained (they reference only their parameters and
 * language globals): the main thread turns them into the source of a `worker_threads` Worker with `toString()`, so
 * the thread runs without loading this package (and so it works the same from the built files and from sources).
 */

/** Table of announced IPv4 addresses (32-bit value) to their counter slot. */
export type AnswerTable = ReadonlyMap<number, number>;

/** An announced IPv6 address as the thread holds it: the address, its slot and the IPv6 source of its advertisements. */
export interface AnswerEntry6 {
  readonly target: Uint8Array;
  readonly slot: number;
  readonly source: Uint8Array;
}

/** Table of announced IPv6 addresses, keyed by their last 32 bits (no allocation per lookup), then compared whole. */
export type AnswerTable6 = ReadonlyMap<number, readonly AnswerEntry6[]>;

/**
 * @internal If `frame` (first `length` bytes) is an untagged Ethernet/IPv4 ARP request sent to broadcast or to `mac`
 * from a unicast source (Ethernet source and sender hardware address) for an address in `table`, returns the address's slot (the thread then writes the reply with `writeArpReply`);
 * otherwise -1, and the frame goes to the event loop, which handles every other case (other addresses, NDP,
 * malformed and foreign frames) and counts it.
 */
export function arpRequestSlot(frame: Uint8Array, length: number, mac: Uint8Array, table: AnswerTable): number {
  if (length < 42) return -1;
  if (frame[12] !== 0x08 || frame[13] !== 0x06 || frame[14] !== 0 || frame[15] !== 1) return -1;
  if (frame[16] !== 0x08 || frame[17] !== 0 || frame[18] !== 6 || frame[19] !== 4) return -1;
  if (frame[20] !== 0 || frame[21] !== 1) return -1;
  let broadcast = true;
  let toUs = true;
  for (let i = 0; i < 6; i++) {
    if (frame[i] !== 0xff) broadcast = false;
    if (frame[i] !== mac[i]) toUs = false;
  }
  if (!broadcast && !toUs) return -1;
  // Unicast requesters only (Ethernet source and sender hardware address): the event loop counts the others.
  if ((frame[6]! & 1) !== 0 || (frame[22]! & 1) !== 0) return -1;
  return table.get(((frame[38]! << 24) | (frame[39]! << 16) | (frame[40]! << 8) | frame[41]!) >>> 0) ?? -1;
}

/**
 * @internal If `frame` (first `length` bytes) is a Neighbor Solicitation that the event loop would accept (RFC 4861
 * §7.1.1 checks: hop limit 255, code 0, valid checksum, unicast target, well-formed options, DAD probes to a
 * solicited-node group without a source link-layer option) for an address in `table`, sent to that address or its
 * solicited-node group at our MAC or the group's MAC, writes the advertisement into `out` (86 bytes, byte for byte
 * what the event loop's `encodeNdpFrame` writes: solicited S=1 O=0 to the source link-layer address, else the frame's
 * source; a DAD probe gets S=0 O=1 to ff02::1) and returns the address's slot; otherwise -1.
 */
export function answerNeighborSolicitation(
  frame: Uint8Array,
  length: number,
  mac: Uint8Array,
  table: AnswerTable6,
  out: Uint8Array,
): number {
  if (length < 78 || frame[12] !== 0x86 || frame[13] !== 0xdd || frame[14]! >> 4 !== 6) return -1;
  const payload = (frame[18]! << 8) | frame[19]!;
  if (payload < 24 || 54 + payload > length) return -1;
  if (frame[20] !== 58 || frame[21] !== 255 || frame[54] !== 135 || frame[55] !== 0 || frame[62] === 0xff) return -1;
  const bucket = table.get(((frame[74]! << 24) | (frame[75]! << 16) | (frame[76]! << 8) | frame[77]!) >>> 0);
  if (bucket === undefined) return -1;
  let entry: AnswerEntry6 | undefined;
  for (const e of bucket) {
    let same = true;
    for (let i = 0; i < 12 && same; i++) if (e.target[i] !== frame[62 + i]) same = false;
    if (same) entry = e;
  }
  if (entry === undefined) return -1;
  // Checksum over the pseudo-header (source, destination, length, next header 58) and the message.
  let sum = (payload >>> 16) + (payload & 0xffff) + 58;
  for (let i = 22; i < 54; i += 2) sum += (frame[i]! << 8) | frame[i + 1]!;
  const end = 54 + payload;
  for (let i = 54; i + 1 < end; i += 2) sum += (frame[i]! << 8) | frame[i + 1]!;
  if (payload & 1) sum += frame[end - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  if (sum !== 0xffff) return -1;
  // Options: each non-empty and inside the message; remember the first source link-layer address.
  let slla = -1;
  for (let p = 78; p < end; ) {
    if (p + 2 > end) return -1;
    const len = frame[p + 1]! * 8;
    if (len === 0 || p + len > end) return -1;
    if (frame[p] === 1 && slla < 0) slla = p + 2;
    p += len;
  }
  // Unicast requesters only (Ethernet source and source link-layer address): the event loop counts the others.
  if ((frame[6]! & 1) !== 0 || (slla >= 0 && (frame[slla]! & 1) !== 0)) return -1;
  let unspecified = true;
  for (let i = 22; i < 38; i++) if (frame[i] !== 0) unspecified = false;
  // Destination: the target itself, or its solicited-node group ff02::1:ffXX:XXXX.
  let toGroup = frame[38] === 0xff && frame[39] === 0x02 && frame[49] === 0x01 && frame[50] === 0xff;
  for (let i = 40; i < 49 && toGroup; i++) if (frame[i] !== 0) toGroup = false;
  const groupOfTarget = toGroup && frame[51] === frame[75] && frame[52] === frame[76] && frame[53] === frame[77];
  if (unspecified && (!toGroup || slla >= 0)) return -1; // a DAD probe the event loop rejects as malformed
  let toTarget = true;
  for (let i = 0; i < 16; i++) if (frame[38 + i] !== frame[62 + i]) toTarget = false;
  if (!groupOfTarget && !toTarget) return -1;
  let toUs = true;
  for (let i = 0; i < 6; i++) if (frame[i] !== mac[i]) toUs = false;
  const toGroupMac =
    groupOfTarget &&
    frame[0] === 0x33 &&
    frame[1] === 0x33 &&
    frame[2] === 0xff &&
    frame[3] === frame[75] &&
    frame[4] === frame[76] &&
    frame[5] === frame[77];
  if (!toUs && !toGroupMac) return -1;
  // Ethernet: to the source link-layer address, the frame's source, or all-nodes for a DAD probe.
  for (let i = 0; i < 6; i++) {
    out[i] = unspecified ? (i < 2 ? 0x33 : i === 5 ? 1 : 0) : slla >= 0 ? frame[slla + i]! : frame[6 + i]!;
    out[6 + i] = mac[i]!;
    out[80 + i] = mac[i]!; // target link-layer address option
  }
  out[12] = 0x86;
  out[13] = 0xdd;
  out[14] = 0x60;
  out[15] = 0;
  out[16] = 0;
  out[17] = 0;
  out[18] = 0;
  out[19] = 32; // payload: 24-byte NA + 8-byte option
  out[20] = 58;
  out[21] = 255;
  for (let i = 0; i < 16; i++) {
    out[22 + i] = entry.source[i]!;
    out[38 + i] = unspecified ? (i === 0 ? 0xff : i === 1 ? 0x02 : i === 15 ? 1 : 0) : frame[22 + i]!;
    out[62 + i] = frame[62 + i]!;
  }
  out[54] = 136;
  out[55] = 0;
  out[56] = 0;
  out[57] = 0;
  out[58] = unspecified ? 0x20 : 0x40; // DAD: O=1; else S=1
  out[59] = 0;
  out[60] = 0;
  out[61] = 0;
  out[78] = 2;
  out[79] = 1;
  let c = 32 + 58;
  for (let i = 22; i < 86; i += 2) c += (out[i]! << 8) | out[i + 1]!;
  while (c > 0xffff) c = (c & 0xffff) + (c >>> 16);
  c = ~c & 0xffff;
  out[56] = c >> 8;
  out[57] = c & 0xff;
  return entry.slot;
}

/**
 * @internal Layout of a socket's shared counters (BigUint64Array): frames answered, replies sent, send errors, then
 * per slot the requests answered and the replies sent. Handed to the thread, which cannot import it.
 */
export const COUNTS = { answered: 0, sent: 1, sendErrors: 2, inFlight: 3, dropped: 4, slotsAt: 5 } as const;

/**
 * @internal Frames handed to the event loop and not yet handled, per socket, above which the thread drops (and
 * counts) further unanswered frames instead of queueing them: a flood for other addresses must not grow memory
 * without bound behind a slower event loop (on the event loop's own receive path the socket buffer is that bound).
 */
export const MAX_IN_FLIGHT = 4096;

/** @internal Messages from the event loop to the answer thread. */
export type ToAnswerThread =
  | { op: 'open'; id: number; fd: number; mac: number[]; counts: SharedArrayBuffer }
  | { op: 'close'; id: number }
  | { op: 'add'; id: number; ip: number; slot: number }
  | { op: 'remove'; id: number; ip: number }
  | { op: 'add6'; id: number; ip: number[]; slot: number; source: number[] }
  | { op: 'remove6'; id: number; ip: number[] }
  | { op: 'exit' };

/** @internal Messages from the answer thread to the event loop. */
export type FromAnswerThread =
  | { op: 'ready'; tid: number }
  | { op: 'frames'; id: number; frames: Uint8Array[] }
  | { op: 'error'; id: number; errno: number }
  | { op: 'fault'; message: string }
  | { op: 'closed'; id: number };

/**
 * @internal The answer thread: one `poll()` over a wake-up eventfd and every registered AF_PACKET socket, blocking
 * until frames arrive; each readable socket is drained with non-blocking `recv`. ARP requests for a table address are
 * answered on the spot with `send` (no event loop, no allocation); every other frame is copied and handed to the
 * event loop in one message per wake-up. Table and socket changes arrive as messages, read synchronously after the
 * eventfd wakes the poll. Counters are shared memory (BigUint64Array, Atomics). Slot numbers index the counters.
 */
export function answerThreadMain(
  load: (id: string) => unknown,
  arpSlot: (frame: Uint8Array, length: number, mac: Uint8Array, table: AnswerTable) => number,
  writeArpReply: (request: Uint8Array, mac: Uint8Array, out: Uint8Array) => void,
  answer6: (frame: Uint8Array, length: number, mac: Uint8Array, table: AnswerTable6, out: Uint8Array) => number,
): void {
  const wt = load('node:worker_threads') as {
    workerData: {
      koffiPath: string;
      wakeFd: number;
      port: import('node:worker_threads').MessagePort;
      counts: {
        answered: number;
        sent: number;
        sendErrors: number;
        inFlight: number;
        dropped: number;
        slotsAt: number;
      };
      maxInFlight: number;
    };
    receiveMessageOnPort(port: unknown): { message: ToAnswerThread } | undefined;
  };
  const { koffiPath, wakeFd, port, counts: at, maxInFlight } = wt.workerData;
  // biome-ignore lint/suspicious/noExplicitAny: koffi is loaded by path inside the worker, untyped
  const koffi = load(koffiPath) as any;
  const libc = koffi.load('libc.so.6');
  const poll = libc.func('int poll(_Inout_ void *, uint64_t, int)');
  const recv = libc.func('intptr_t recv(int, _Out_ void *, size_t, int)');
  const send = libc.func('intptr_t send(int, const void *, size_t, int)');
  const read = libc.func('intptr_t read(int, _Out_ void *, size_t)');
  const gettid = libc.func('int gettid(void)');
  const MSG_DONTWAIT = 0x40;
  const EAGAIN = 11;
  const EINTR = 4;
  const POLLIN = 1;
  /** Frames read per socket per wake-up before the other sockets get their turn. */
  const MAX_DRAIN = 256;
  /** After a receive error (e.g. ENETDOWN while the link is down) a socket rests this long instead of spinning. */
  const REST_MS = 100;

  interface Sock {
    id: number;
    fd: number;
    mac: Uint8Array;
    table: Map<number, number>;
    table6: Map<number, AnswerEntry6[]>;
    counts: BigUint64Array;
    restUntil: number;
  }
  const socks = new Map<number, Sock>();
  const rx = new Uint8Array(9216);
  const tx = new Uint8Array(42);
  const tx6 = new Uint8Array(86);
  const eight = new Uint8Array(8);
  let order: Sock[] = [];
  let pfd = new Uint8Array(8);
  let pview = new DataView(pfd.buffer);
  let resting = false;

  const rebuild = (now: number) => {
    resting = false;
    order = [];
    for (const s of socks.values()) {
      if (s.restUntil > now) resting = true;
      else order.push(s);
    }
    pfd = new Uint8Array(8 * (order.length + 1));
    pview = new DataView(pfd.buffer);
    pview.setInt32(0, wakeFd, true);
    pview.setInt16(4, POLLIN, true);
    order.forEach((s, i) => {
      pview.setInt32(8 * (i + 1), s.fd, true);
      pview.setInt16(8 * (i + 1) + 4, POLLIN, true);
    });
  };

  /** Applies queued messages; false once told to exit. */
  const apply = (): boolean => {
    for (;;) {
      const m = wt.receiveMessageOnPort(port)?.message;
      if (m === undefined) return true;
      if (m.op === 'exit') return false;
      if (m.op === 'open') {
        socks.set(m.id, {
          id: m.id,
          fd: m.fd,
          mac: Uint8Array.from(m.mac),
          table: new Map(),
          table6: new Map(),
          counts: new BigUint64Array(m.counts),
          restUntil: 0,
        });
      } else if (m.op === 'close') {
        socks.delete(m.id);
        port.postMessage({ op: 'closed', id: m.id });
      } else if (m.op === 'add') socks.get(m.id)?.table.set(m.ip, m.slot);
      else if (m.op === 'remove') socks.get(m.id)?.table.delete(m.ip);
      else if (m.op === 'add6' || m.op === 'remove6') {
        const s = socks.get(m.id);
        if (!s) continue;
        const key = ((m.ip[12]! << 24) | (m.ip[13]! << 16) | (m.ip[14]! << 8) | m.ip[15]!) >>> 0;
        const same = (e: AnswerEntry6) => e.target.every((b, i) => b === m.ip[i]);
        const rest = (s.table6.get(key) ?? []).filter((e) => !same(e));
        if (m.op === 'add6')
          rest.push({ target: Uint8Array.from(m.ip), slot: m.slot, source: Uint8Array.from(m.source) });
        if (rest.length > 0) s.table6.set(key, rest);
        else s.table6.delete(key);
      }
    }
  };

  /** Reads what `s` holds; true when a receive error put it to rest. */
  const drain = (s: Sock): boolean => {
    let rest = false;
    const forward: Uint8Array[] = [];
    for (let k = 0; k < MAX_DRAIN; k++) {
      const n = Number(recv(s.fd, rx, rx.length, MSG_DONTWAIT));
      if (n < 0) {
        const e = koffi.errno();
        if (e === EAGAIN || e === EINTR) break;
        port.postMessage({ op: 'error', id: s.id, errno: e });
        s.restUntil = Date.now() + REST_MS;
        rest = true;
        break;
      }
      let slot = arpSlot(rx, n, s.mac, s.table);
      let reply = tx;
      if (slot >= 0) writeArpReply(rx, s.mac, tx);
      else if (s.table6.size > 0) {
        slot = answer6(rx, n, s.mac, s.table6, tx6);
        reply = tx6;
      }
      if (slot < 0) {
        forward.push(rx.slice(0, n));
        continue;
      }
      Atomics.add(s.counts, at.slotsAt + 2 * slot, 1n);
      Atomics.add(s.counts, at.answered, 1n);
      if (Number(send(s.fd, reply, reply.length, MSG_DONTWAIT)) === reply.length) {
        Atomics.add(s.counts, at.slotsAt + 2 * slot + 1, 1n);
        Atomics.add(s.counts, at.sent, 1n);
      } else Atomics.add(s.counts, at.sendErrors, 1n);
    }
    if (forward.length > 0 && Number(Atomics.load(s.counts, at.inFlight)) + forward.length > maxInFlight) {
      Atomics.add(s.counts, at.dropped, BigInt(forward.length)); // the event loop is behind: drop, count
    } else if (forward.length > 0) {
      Atomics.add(s.counts, at.inFlight, BigInt(forward.length));
      port.postMessage(
        { op: 'frames', id: s.id, frames: forward },
        forward.map((f) => f.buffer as ArrayBuffer),
      );
    }
    return rest;
  };

  // The thread must outlive any failure (a poll error such as ENOMEM, a bug): it reports it, pauses 10 ms so a
  // persistent fault cannot spin, and carries on. Only an `exit` message ends it.
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const fault = (message: string) => {
    port.postMessage({ op: 'fault', message });
    Atomics.wait(pause, 0, 0, 10);
  };

  port.postMessage({ op: 'ready', tid: gettid() });
  if (!apply()) return;
  rebuild(Date.now());
  for (;;) {
    try {
      const ready = poll(pfd, order.length + 1, resting ? REST_MS : -1);
      if (ready < 0) {
        const e = koffi.errno();
        if (e !== EINTR) fault(`poll failed, errno ${e}`);
        continue;
      }
      let changed = resting;
      if (ready > 0 && pview.getInt16(6, true) !== 0) {
        read(wakeFd, eight, 8);
        if (!apply()) return;
        changed = true;
      }
      if (ready > 0) {
        for (let i = 0; i < order.length; i++) {
          const s = order[i]!;
          if (pview.getInt16(8 * (i + 1) + 6, true) !== 0 && socks.get(s.id) === s) {
            if (drain(s)) changed = true;
          }
        }
      }
      if (changed) rebuild(Date.now());
    } catch (e) {
      fault(e instanceof Error ? e.message : 'unknown error');
      rebuild(Date.now());
    }
  }
}
