#!/usr/bin/env python3
"""Sends datagrams shaped like the shim's internal doorbell to an echo server
and requires every one echoed back unchanged: a local program (from
127.0.0.1, the doorbell's own source) or a peer on the wire that crafts one
must not have it swallowed. Shapes: the doorbell's first wire form (16
bytes: magic, hops, token; tokens guessed from the server's pid) and the
current one (24 bytes: the same and a key, guessed). Normal datagrams go
between them. Prints "spoofs echoed N/N"; exit status 1 if any is missing.
  doorbell_spoof.py HOST PORT SERVER_PID [--bind ADDR]"""
import argparse
import os
import socket
import struct
import sys

MAGIC = 0x42445544  # "DUDB"


def shapes(pid):
    out = []
    for serial in range(8):
        token = (pid << 32) | serial
        out.append(struct.pack("<IHHQ", MAGIC, 0, 0, token))
        out.append(struct.pack("<IHHQ", MAGIC, 3, 0, token))
        for key in (0, 42, int.from_bytes(os.urandom(8), "little")):
            out.append(struct.pack("<IHHQQ", MAGIC, 0, 0, token, key))
    out.append(struct.pack("<IHHQQ", MAGIC, 0, 0, 0, 0))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("pid", type=int)
    ap.add_argument("--bind", default="")
    args = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((args.bind, 0))
    s.settimeout(2.0)
    sent = echoed = 0
    for i, shape in enumerate(shapes(args.pid)):
        for payload in (shape, b"plain %d" % i):
            sent += 1
            s.sendto(payload, (args.host, args.port))
            try:
                while True:  # a late echo of an earlier one is skipped
                    got = s.recv(2048)
                    if got == payload:
                        echoed += 1
                        break
            except socket.timeout:
                print(f"missing: {payload.hex()} ({len(payload)} bytes)", flush=True)
    print(f"spoofs echoed {echoed}/{sent}", flush=True)
    return 0 if echoed == sent else 1


if __name__ == "__main__":
    sys.exit(main())
