#!/usr/bin/env python3
"""One-way delay of a multicast stream, for scripts/bench's mcast section.

  mcast_delay.py recv GROUP PORT IFACE_ADDR COUNT   joins, prints "joined",
      then one JSON line: how many came and the delay percentiles in us
  mcast_delay.py send GROUP PORT IFACE_ADDR COUNT   COUNT datagrams, 1 ms apart

Each datagram carries its CLOCK_REALTIME send time; sender and receivers
run on one host (two network namespaces), so they read one clock. Plain
blocking Python on both ends: the figures compare stacks under the same
program, they are not the stacks' own latency (scripts/bench's pingpong is)."""
import json
import socket
import struct
import sys
import time


def recv(group, port, addr, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(group) + socket.inet_aton(addr))
    s.settimeout(3)
    print("joined", flush=True)
    delays = []
    try:
        while len(delays) < count:
            data = s.recv(64)
            delays.append((time.time_ns() - struct.unpack("!Q", data[:8])[0]) / 1000)
    except socket.timeout:
        pass
    delays.sort()
    pick = (lambda q: round(delays[min(len(delays) - 1, int(len(delays) * q))], 1)) if delays else (lambda q: None)
    print(json.dumps({"n": len(delays), "p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99)}), flush=True)


def send(group, port, addr, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(addr))
    for _ in range(count):
        s.sendto(struct.pack("!Q", time.time_ns()) + bytes(24), (group, port))
        time.sleep(0.001)


if __name__ == "__main__":
    {"recv": recv, "send": send}[sys.argv[1]](sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
