#!/usr/bin/env python3
"""A pre-forking UDP echo server, as written before threads: the parent
binds one socket, forks WORKERS children that each answer on it ("W<i>:" in
front of every reply) and then only waits for them. Prints "worker I PID"
for each child, then "ready"; SIGTERM stops the children (each exits 0 when it echoed
something, 3 when not) and the parent prints "worker I exit S" or "worker I
signal N" for each. A worker dies with its parent (PR_SET_PDEATHSIG).
--start-delay S: each worker sleeps S seconds before it first touches the
socket (datagrams sent meanwhile wait in the socket, as on Linux)."""
import argparse
import ctypes
import os
import signal
import socket
import sys
import time

PR_SET_PDEATHSIG = 1


def worker(sock, index, start_delay):
    # Die with the parent (a test that kills the parent leaves no orphans).
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    time.sleep(start_delay)
    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    tag = b"W%d:" % index
    echoed = 0
    sock.settimeout(0.2)
    while not stop:
        try:
            data, addr = sock.recvfrom(65535)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        sock.sendto(tag + data, addr)
        echoed += 1
    os._exit(0 if echoed > 0 else 3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--start-delay", type=float, default=0.0)
    args = ap.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", args.port))
    children = []
    for i in range(args.workers):
        pid = os.fork()
        if pid == 0:
            worker(sock, i, args.start_delay)
        children.append(pid)
        print(f"worker {i} {pid}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: None)
    print("ready", flush=True)
    status = 0
    try:
        signal.pause()
    finally:
        pass
    for pid in children:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for i, pid in enumerate(children):
        try:
            _, st = os.waitpid(pid, 0)
        except ChildProcessError:
            continue
        how = f"exit {os.WEXITSTATUS(st)}" if os.WIFEXITED(st) else f"signal {os.WTERMSIG(st)}"
        print(f"worker {i} {how}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
