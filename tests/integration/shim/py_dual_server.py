#!/usr/bin/env python3
"""A dual-stack UDP echo server as many real servers open one: a single
AF_INET6 socket bound to [::]:PORT with IPV6_V6ONLY off, so IPv4 peers
arrive as ::ffff:a.b.c.d. Prints "ready", then on SIGTERM (or after
--lifetime seconds) "echoed4 N" and "echoed6 M": the datagrams echoed to
IPv4 and IPv6 peers."""
import argparse
import signal
import socket
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--lifetime", type=float, default=120.0)
    args = ap.parse_args()
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", args.port))
    counts = {4: 0, 6: 0}

    def stop(*_):
        print(f"echoed4 {counts[4]}")
        print(f"echoed6 {counts[6]}", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGALRM, stop)
    signal.alarm(int(args.lifetime))
    print("ready", flush=True)
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)
        counts[4 if peer[0].startswith("::ffff:") else 6] += 1


if __name__ == "__main__":
    sys.exit(main())
