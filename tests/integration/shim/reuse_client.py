#!/usr/bin/env python3
"""A kernel client for servers that share one port: FLOWS sockets (one source
port each) send ROUNDS datagrams each to HOST:PORT, a round at a time, and
collect every reply for up to 2 s per round, then 0.3 s more for extras.
Replies are "TAG:" + the datagram (py_echo_server.py --tag). Prints one JSON
line: replies per tag, missing replies, duplicates (a datagram answered more
than once), and flows whose replies came from more than one tag."""
import json
import select
import socket
import sys
import time


def main():
    host, port, flows, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    socks = []
    for _ in range(flows):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", 0))
        s.setblocking(False)
        socks.append(s)
    by_fd = {s.fileno(): i for i, s in enumerate(socks)}
    tags = {}
    answered = {}  # (flow, round) -> times answered
    flow_tags = [set() for _ in range(flows)]
    garbled = 0
    for r in range(rounds):
        for i, s in enumerate(socks):
            s.sendto(b"flow %d round %d" % (i, r), (host, port))
        deadline = time.monotonic() + 2.0
        extra_until = None
        while True:
            now = time.monotonic()
            got_all = all((i, r) in answered for i in range(flows))
            if got_all and extra_until is None:
                extra_until = now + 0.3
            end = extra_until if extra_until is not None else deadline
            if now >= end:
                break
            ready, _, _ = select.select(socks, [], [], end - now)
            for s in ready:
                i = by_fd[s.fileno()]
                while True:
                    try:
                        data = s.recv(2048)
                    except BlockingIOError:
                        break
                    tag, _, body = data.partition(b":")
                    try:
                        words = body.split()
                        fi, ri = int(words[1]), int(words[3])
                    except (IndexError, ValueError):
                        garbled += 1
                        continue
                    if fi != i:
                        garbled += 1
                        continue
                    t = tag.decode()
                    tags[t] = tags.get(t, 0) + 1
                    flow_tags[i].add(t)
                    answered[(fi, ri)] = answered.get((fi, ri), 0) + 1
    missing = sum(1 for i in range(flows) for r in range(rounds) if (i, r) not in answered)
    duplicates = sum(n - 1 for n in answered.values() if n > 1)
    moved = sum(1 for t in flow_tags if len(t) > 1)
    print(json.dumps({"tags": tags, "missing": missing, "duplicates": duplicates, "moved": moved,
                      "garbled": garbled}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
