#!/usr/bin/env python3
"""An echo client for a bad link: sends COUNT datagrams (16..MAX bytes, each
carrying its number and a CRC-32 of its bytes) in windows of WINDOW, waits
a bounded time for each window's echoes, and tells apart what came back
whole, what was lost, what came twice and what came back damaged (a reply
whose bytes are not exactly a datagram it sent). Losses and duplicates are
a bad link's right, as on Linux; a damaged reply or a hang is a failure.
Prints one summary line; exit status 1 when a reply was damaged, fewer than
--min-answered of the datagrams were answered, or the deadline passed.
  lossy_echo_client.py HOST PORT [--count N] [--max-size B] [--min-answered F]"""
import argparse
import os
import socket
import struct
import sys
import time
import zlib


def make(seq, size):
    body = os.urandom(size - 12)
    return struct.pack("!QI", seq, zlib.crc32(body)) + body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--max-size", type=int, default=1400)
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--wait", type=float, default=0.3, help="seconds to wait for a window's last echoes")
    ap.add_argument("--min-answered", type=float, default=0.5)
    ap.add_argument("--deadline", type=float, default=120.0)
    args = ap.parse_args()

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((args.host, args.port))
    sent = {}
    answered = set()
    duplicates = damaged = 0
    start = time.monotonic()
    seq = 0
    while seq < args.count:
        if time.monotonic() - start > args.deadline:
            print(f"lossy: deadline passed after {seq} datagrams", flush=True)
            return 1
        window = []
        s.settimeout(None)  # sends block as usual; only receives are timed
        for _ in range(min(args.window, args.count - seq)):
            size = 12 + (seq * 7919) % (args.max_size - 11)
            d = make(seq, max(size, 16))
            sent[seq] = d
            window.append(seq)
            try:
                s.send(d)
            except ConnectionRefusedError:
                pass  # an earlier datagram's port-unreachable (the server restarting)
            seq += 1
        until = time.monotonic() + args.wait
        while any(w not in answered for w in window):
            left = until - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                got = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionRefusedError:
                continue  # an ICMP error for a damaged frame of ours: Linux reports it too
            n = struct.unpack("!Q", got[:8])[0] if len(got) >= 8 else -1
            if sent.get(n) != got:
                damaged += 1
                print(f"lossy: damaged reply of {len(got)} bytes: {got[:24].hex()}", flush=True)
            elif n in answered:
                duplicates += 1
            else:
                answered.add(n)
    elapsed = time.monotonic() - start
    print(f"lossy: sent {args.count} answered {len(answered)} lost {args.count - len(answered)} "
          f"duplicates {duplicates} damaged {damaged} in {elapsed:.1f} s", flush=True)
    if damaged:
        return 1
    return 0 if len(answered) >= args.min_answered * args.count else 1


if __name__ == "__main__":
    sys.exit(main())
