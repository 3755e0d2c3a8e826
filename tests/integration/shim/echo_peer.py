#!/usr/bin/env python3
"""Kernel UDP echo peer for the shim tests (runs in the client namespace).

Listens on PORT and PORT+1 (0.0.0.0) and echoes every datagram back to its
sender, from the port it arrived on, byte for byte (empty datagrams too).

A datagram that starts with the magic prefix b"@@dpdkudp:" carries commands
instead, "k=v" pairs separated by commas and ended by ";", the rest being the
payload:
    to=N      send the payload to port N of the sender's address (reflect)
    n=N       send it N times (1..64)
    delay=MS  send it after MS milliseconds (0..3000)
    swap=1    send it from the other listening port (PORT+1 <-> PORT)
    info=1    reply "ttl=<ttl> tos=<tos> len=<payload length>" (what the
              datagram carried on the wire) instead of the payload
A command that does not parse is echoed verbatim. The prefix is long enough
that no ordinary test payload starts with it.

Bounded: exits by itself after --lifetime seconds (default 120), and on
SIGTERM/SIGINT, printing "peer: echoed N". Prints "ready" once bound.
"""
import argparse
import heapq
import select
import signal
import socket
import sys
import time

MAGIC = b"@@dpdkudp:"
IP_RECVTOS = 13  # <linux/in.h>; cmsg types equal the option numbers below
IP_RECVTTL = 12
IP_TOS = 1
IP_TTL = 2


def parse_command(data):
    """Returns (options dict, payload) or None when data is not a command."""
    if not data.startswith(MAGIC):
        return None
    end = data.find(b";", len(MAGIC))
    if end < 0:
        return None
    opts = {}
    try:
        for field in data[len(MAGIC):end].decode("ascii").split(","):
            if not field:
                continue
            k, v = field.split("=", 1)
            opts[k] = int(v)
    except (ValueError, UnicodeDecodeError):
        return None
    if not 1 <= opts.get("n", 1) <= 64 or not 0 <= opts.get("delay", 0) <= 3000:
        return None
    if not 0 <= opts.get("to", 1) <= 65535 or opts.get("swap", 0) not in (0, 1):
        return None
    return opts, data[end + 1:]


def wire_info(ancdata, payload_len):
    ttl = tos = -1
    for level, kind, value in ancdata:
        if level == socket.IPPROTO_IP and kind == IP_TTL:
            ttl = int.from_bytes(value[:4], sys.byteorder)
        elif level == socket.IPPROTO_IP and kind == IP_TOS:
            tos = value[0]
    return f"ttl={ttl} tos={tos} len={payload_len}".encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--lifetime", type=float, default=120.0)
    args = ap.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    socks = []
    for port in (args.port, args.port + 1):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:  # root: a big buffer so bursts of the thread tests are not dropped here
            s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
        s.setsockopt(socket.IPPROTO_IP, IP_RECVTOS, 1)
        s.bind(("0.0.0.0", port))
        s.setblocking(False)
        socks.append(s)
    print("ready", flush=True)

    deadline = time.monotonic() + args.lifetime
    pending = []  # heap of (due, seq, sock, payload, addr)
    seq = 0
    echoed = 0
    while not stop and time.monotonic() < deadline:
        timeout = 0.2
        if pending:
            timeout = max(0.0, min(timeout, pending[0][0] - time.monotonic()))
        try:
            ready, _, _ = select.select(socks, [], [], timeout)
        except InterruptedError:
            continue
        for s in ready:
            for _ in range(256):  # drain, bounded
                try:
                    data, anc, _flags, addr = s.recvmsg(65535, 256)
                except (BlockingIOError, InterruptedError):
                    break
                except ConnectionRefusedError:
                    continue  # an ICMP error from an earlier reply
                cmd = parse_command(data)
                if cmd is None:
                    try:
                        s.sendto(data, addr)
                        echoed += 1
                    except OSError as e:
                        print(f"peer: sendto {addr}: {e}", file=sys.stderr)
                    continue
                opts, payload = cmd
                if opts.get("info"):
                    payload = wire_info(anc, len(payload))
                dest = (addr[0], opts.get("to", addr[1]))
                out = socks[1 - socks.index(s)] if opts.get("swap") else s
                due = time.monotonic() + opts.get("delay", 0) / 1000.0
                for _ in range(opts.get("n", 1)):
                    heapq.heappush(pending, (due, seq, out, payload, dest))
                    seq += 1
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, s, payload, dest = heapq.heappop(pending)
            try:
                s.sendto(payload, dest)
                echoed += 1
            except OSError as e:
                print(f"peer: sendto {dest}: {e}", file=sys.stderr)
    print(f"peer: echoed {echoed}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
