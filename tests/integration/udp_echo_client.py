#!/usr/bin/env python3
"""Kernel UDP client for the integration tests: sends COUNT datagrams of sizes
cycling through 1..MAX to HOST:PORT one at a time and checks every echoed byte.
HOST may be an IPv6 address (the socket is then AF_INET6).
Bounded: each reply waits at most --timeout seconds, the whole run at most
--deadline seconds. Exit 0 only when every datagram came back intact."""
import argparse
import socket
import sys
import time


def payload(i, size):
    return bytes((i * 7 + k * 13) & 0xFF for k in range(size))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--max-size", type=int, default=1472)
    ap.add_argument("--timeout", type=float, default=1.0)
    ap.add_argument("--deadline", type=float, default=120.0)
    args = ap.parse_args()

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(args.timeout)
    s.connect((args.host, args.port))
    start = time.monotonic()
    for i in range(args.count):
        if time.monotonic() - start > args.deadline:
            print(f"echo: deadline passed after {i} datagrams", file=sys.stderr)
            return 1
        size = 1 + i % args.max_size
        data = payload(i, size)
        s.send(data)
        try:
            got = s.recv(65535)
        except socket.timeout:
            print(f"echo: no reply to datagram {i} ({size} bytes)", file=sys.stderr)
            return 1
        if got != data:
            print(f"echo: datagram {i} ({size} bytes) came back as {len(got)} different bytes", file=sys.stderr)
            return 1
    elapsed = time.monotonic() - start
    print(f"echo: {args.count} datagrams of 1..{args.max_size} bytes intact in {elapsed:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
