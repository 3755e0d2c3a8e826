#!/usr/bin/env python3
"""A plain blocking UDP echo server, the way most Python programs are written:
socket.recvfrom / socket.sendto in a loop. Prints "ready" once bound and
"echoed N" when it stops (SIGTERM, or --lifetime seconds, default 120).
--reuseport (--reuseaddr) sets SO_REUSEPORT (SO_REUSEADDR) before bind; --tag T puts T in front of every
reply (to tell which of several servers answered)."""
import argparse
import signal
import socket
import sys
import time


class Stop(Exception):
    pass


def on_term(*_):
    raise Stop


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--lifetime", type=float, default=120.0)
    ap.add_argument("--reuseport", action="store_true")
    ap.add_argument("--reuseaddr", action="store_true")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, on_term)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if args.reuseport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if args.reuseaddr:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.bind, args.port))
    tag = args.tag.encode()
    s.settimeout(0.5)  # wake up now and then to honour the lifetime
    print(f"ready {s.getsockname()[0]}:{s.getsockname()[1]}", flush=True)
    deadline = time.monotonic() + args.lifetime
    echoed = 0
    try:
        while time.monotonic() < deadline:
            try:
                data, addr = s.recvfrom(65535)
            except socket.timeout:
                continue
            s.sendto(tag + data, addr)
            echoed += 1
    except Stop:
        pass
    print(f"echoed {echoed}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
