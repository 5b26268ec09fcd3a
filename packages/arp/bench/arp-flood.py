#!/usr/bin/env python3
"""Fixed-rate ARP request flood with per-request latency, for bench/run.mjs (stdlib only, run as root in a netns).

  arp-flood.py IFACE TARGET_IP --src-ip UNUSED_IP --rate PPS --duration S [--grace S]

Request i carries the unique locally administered sender MAC 02:00:<i as 4 bytes> (Ethernet source and SHA), so each
reply (THA) names its request. Sends follow the absolute schedule t0 + i/rate; the receive socket is drained between
sends. Latency = kernel receive timestamp of the reply - kernel timestamp of our own outgoing copy of the request
(seen by a second, ETH_P_ALL socket; SO_TIMESTAMPNS on both directions), falling back to the wall clock read just
before send(). Bounded: at most rate*duration frames, then `grace` seconds of receiving. Prints one JSON object.
"""
import argparse
import json
import socket
import struct
import time

ETH_P_ALL, ETH_P_ARP = 0x0003, 0x0806
SOL_PACKET, PACKET_STATISTICS, SO_TIMESTAMPNS, SO_RCVBUFFORCE = 263, 6, 35, 33


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("iface")
    ap.add_argument("target")
    ap.add_argument("--src-ip", required=True)
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--grace", type=float, default=1.0)
    ap.add_argument("--slack-ms", type=float, default=0.0,
                    help="send requests up to this early and sleep in between (micro-bursts) instead of busy-waiting "
                         "for exact spacing; keeps the flooder from eating a CPU the responder needs on small machines")
    a = ap.parse_args()
    if a.rate * a.duration > 2_000_000:
        raise SystemExit("refusing to send more than 2,000,000 frames")

    spa, tpa = socket.inet_aton(a.src_ip), socket.inet_aton(a.target)
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    rx.bind((a.iface, ETH_P_ALL))
    rx.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    rx.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
    rx.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)  # reset
    rx.setblocking(False)
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    tx.bind((a.iface, ETH_P_ARP))

    total = int(a.rate * a.duration)
    wall = [0.0] * total
    kts = [0.0] * total
    replies = {}
    dup = foreign = txerr = 0

    def drain():
        nonlocal dup, foreign
        while True:
            try:
                data, anc, _, _ = rx.recvmsg(64, socket.CMSG_SPACE(16))
            except BlockingIOError:
                return
            if len(data) < 42 or data[12:14] != b"\x08\x06":
                continue
            ts = 0.0
            for lvl, typ, val in anc:
                if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                    s, ns = struct.unpack("qq", val[:16])
                    ts = s + ns / 1e9
            op = data[20:22]
            if op == b"\x00\x01":
                if data[22:24] == b"\x02\x00":
                    q = struct.unpack("!I", data[24:28])[0]
                    if q < total:
                        kts[q] = ts
                continue
            if op != b"\x00\x02" or data[28:32] != tpa or data[32:34] != b"\x02\x00":
                foreign += 1
                continue
            q = struct.unpack("!I", data[34:38])[0]
            if q >= total or wall[q] == 0.0:
                foreign += 1
            elif q in replies:
                dup += 1
            else:
                replies[q] = ts or time.time()

    head = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1)
    slack = a.slack_ms / 1000.0
    late = 0  # requests sent more than 100 µs after their due time: the flooder was descheduled and then catches up
    t0 = time.perf_counter()
    for i in range(total):
        mac = b"\x02\x00" + struct.pack("!I", i)
        frame = b"\xff" * 6 + mac + b"\x08\x06" + head + mac + spa + b"\x00" * 6 + tpa + b"\x00" * 18
        due = t0 + i / a.rate - slack
        while True:
            now = time.perf_counter()
            if now >= due:
                if now - due > 0.0001 + slack:
                    late += 1
                break
            drain()
            if slack:
                time.sleep(max(0.0, min(due - now, 0.002)))
            elif due - now > 0.0005:
                time.sleep(min(due - now - 0.0003, 0.002))
        try:
            wall[i] = time.time()
            tx.send(frame)
        except OSError:
            txerr += 1
    elapsed = time.perf_counter() - t0
    end = time.perf_counter() + a.grace
    while time.perf_counter() < end:
        drain()
        time.sleep(0.001)
    drain()
    _, drops = struct.unpack("II", rx.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    # Highest send rate over any 1 ms window: after falling behind, the absolute schedule sends back to back.
    burst, j = 0, 0
    for k in range(total):
        while wall[k] - wall[j] > 0.001:
            j += 1
        burst = max(burst, k - j + 1)
    lat = sorted((ts - (kts[q] or wall[q])) * 1e6 for q, ts in replies.items())

    def pct(p):
        return round(lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 1) if lat else None

    print(json.dumps({
        "target": a.target, "rate": a.rate, "slack_ms": a.slack_ms, "sent": total, "achieved_pps": round(total / elapsed, 1) if elapsed else None,
        "replies": len(lat), "reply_ratio": round(len(lat) / total, 5) if total else None,
        "duplicates": dup, "foreign": foreign, "tx_errors": txerr, "rx_socket_drops": drops,
        "kernel_tx_stamps": sum(1 for q in replies if kts[q]),
        "late_sends": late, "max_pps_1ms": burst * 1000,
        "lat_us": {"p50": pct(50), "p90": pct(90), "p99": pct(99), "max": round(lat[-1], 1) if lat else None},
    }))


if __name__ == "__main__":
    main()
