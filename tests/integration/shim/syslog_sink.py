#!/usr/bin/env python3
"""A stand-in for the syslog daemon: binds a Unix datagram socket at PATH,
prints "ready", then prints every message it receives, one per line, until
SIGTERM or --lifetime seconds. Removes PATH when it stops."""
import argparse
import os
import signal
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--lifetime", type=float, default=60.0)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(args.path)
    os.chmod(args.path, 0o666)
    s.settimeout(0.2)
    print("ready", flush=True)
    end = time.monotonic() + args.lifetime
    try:
        while time.monotonic() < end:
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            print(data.decode("utf-8", "replace"), flush=True)
    finally:
        os.unlink(args.path)


if __name__ == "__main__":
    main()
