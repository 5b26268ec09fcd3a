#!/usr/bin/python3
"""ExaBGP API process for @ingot/lab (stdlib only; started by ExaBGP, never by hand).

    process lab { run /usr/bin/python3 .../exabgp-sink.py DIR; encoder json; }

Reads ExaBGP's JSON events on stdin and keeps DIR/state.json, rewritten atomically (temp file + rename) whenever
it changed and input has been idle for 50 ms, or at least once a second during a burst:
    {"sessions": {"<peer>": "Established" | "connected" | "down" | ...},
     "rib": {"<peer>": {"<prefix>": {"family": "ipv4 unicast", "next-hop": "...", "attribute": {...}}}},
     "acks": ["done", "error", ...]}
Every input line is appended to DIR/events.jsonl. API commands written to the FIFO DIR/commands (one per line)
are forwarded to ExaBGP on stdout; ExaBGP's answers ("done"/"error") are appended to "acks".
"""
import json
import os
import select
import sys
import time

outdir = sys.argv[1]
fifo = os.path.join(outdir, "commands")
if not os.path.exists(fifo):
    os.mkfifo(fifo, 0o600)
# O_RDWR keeps the FIFO open even when no writer is connected, so reads never see EOF.
cmd_fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
events = open(os.path.join(outdir, "events.jsonl"), "a", buffering=1)
sessions, rib, acks = {}, {}, []
dirty = True
last_write = 0.0


def write_state():
    global dirty, last_write
    tmp = os.path.join(outdir, "state.json.tmp")
    with open(tmp, "w") as f:
        json.dump({"sessions": sessions, "rib": rib, "acks": acks}, f)
    os.replace(tmp, os.path.join(outdir, "state.json"))
    dirty, last_write = False, time.monotonic()


def handle(msg):
    neighbor = msg.get("neighbor", {})
    peer = neighbor.get("address", {}).get("peer", "?")
    if msg.get("type") == "state":
        st = neighbor.get("state")
        sessions[peer] = "Established" if st == "up" else st
        if st == "down":
            rib.pop(peer, None)
        return
    update = neighbor.get("message", {}).get("update")
    if not update:
        return
    table = rib.setdefault(peer, {})
    attrs = update.get("attribute", {})
    for family, by_nexthop in update.get("announce", {}).items():
        for nexthop, nlris in by_nexthop.items():
            for n in nlris:
                prefix = n["nlri"] if isinstance(n, dict) else n
                table[prefix] = {"family": family, "next-hop": nexthop, "attribute": attrs}
    for family, nlris in update.get("withdraw", {}).items():
        for n in nlris:
            prefix = n["nlri"] if isinstance(n, dict) else n
            table.pop(prefix, None)


write_state()
stdin_fd = sys.stdin.fileno()
buf, cmd_buf = b"", b""
while True:
    ready, _, _ = select.select([stdin_fd, cmd_fd], [], [], 0.05)
    if not ready:
        if dirty:
            write_state()
        continue
    if cmd_fd in ready:
        cmd_buf += os.read(cmd_fd, 65536)
        *cmds, cmd_buf = cmd_buf.split(b"\n")
        for c in cmds:
            if c.strip():
                sys.stdout.write(c.decode().strip() + "\n")
                sys.stdout.flush()
    if stdin_fd in ready:
        chunk = os.read(stdin_fd, 1 << 20)
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            text = line.decode(errors="replace").strip()
            if not text:
                continue
            events.write(text + "\n")
            dirty = True
            if not text.startswith("{"):
                acks.append(text)
                continue
            try:
                handle(json.loads(text))
            except (ValueError, KeyError, AttributeError, TypeError):
                pass
        if dirty and time.monotonic() - last_write > 1.0:
            write_state()
write_state()
