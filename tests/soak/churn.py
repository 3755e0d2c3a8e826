#!/usr/bin/env python3
"""The soak's socket churn (scripts/soak): one short-lived process under the
shim that opens ROUNDS UDP sockets one after another (some dual-stack, some
connected, some bound to fixed ports), exchanges a datagram through each
with a kernel echo peer, and closes it. Prints "churn: N of M answered";
exit status 1 when fewer than half were answered (a lost datagram is a
bad link's right; none answered is a broken shim).
  churn.py PEER_IP PEER_PORT [--rounds N]"""
import argparse
import socket
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peer")
    ap.add_argument("port", type=int)
    ap.add_argument("--rounds", type=int, default=100)
    a = ap.parse_args()
    answered = 0
    for i in range(a.rounds):
        s = socket.socket(socket.AF_INET6 if i % 3 == 0 else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.settimeout(0.5)
            peer = ("::ffff:" + a.peer, a.port) if i % 3 == 0 else (a.peer, a.port)
            if i % 4 == 1:
                # Below Linux's ephemeral range (32768-60999): a fixed port
                # inside it can be taken by any socket the kernel autobinds,
                # the shim's loopback doorbell senders included.
                s.bind(("", 30000 + i % 8))
            if i % 2 == 0:
                s.connect(peer)
                s.send(b"churn %d" % i)
            else:
                s.sendto(b"churn %d" % i, peer)
            try:
                if s.recv(64) == b"churn %d" % i:
                    answered += 1
            except (socket.timeout, ConnectionRefusedError):
                pass
        finally:
            s.close()
    print(f"churn: {answered} of {a.rounds} answered", flush=True)
    return 0 if answered * 2 >= a.rounds else 1


if __name__ == "__main__":
    sys.exit(main())
