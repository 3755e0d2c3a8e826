#!/usr/bin/env python3
"""IPv4 multicast, from the socket API as programs use it.

  mcast_peer.py recv GROUP PORT IFACE IFACE_ADDR SOURCE OTHER
      Three sockets on PORT (SO_REUSEADDR): "any" joins GROUP for any
      source (ip_mreqn, by IFACE's index), "ssm" joins it for SOURCE only,
      "other" for OTHER only (IP_ADD_SOURCE_MEMBERSHIP, by IFACE_ADDR); a
      fourth, "quiet", has IP_MULTICAST_ALL off and no membership. Prints "joined", then counts datagrams per socket until
      "any" has 20 (at most 10 s), leaves on every socket, prints "left",
      counts for 1 s more, and prints one JSON line: before, after (per
      socket) and the errno checks.
  mcast_peer.py errnos GROUP IFACE
      Linux's answers to misuse of the membership options, as JSON.
  mcast_peer.py send GROUP PORT IFACE_ADDR COUNT
      Sends COUNT datagrams ("n <i>") to GROUP:PORT out of the interface
      with IFACE_ADDR (IP_MULTICAST_IF), 10 ms apart, default TTL (1).
  mcast_peer.py count GROUP PORT IFACE_ADDR SECONDS
      Joins GROUP on the interface with IFACE_ADDR, prints "joined",
      counts datagrams for SECONDS and prints the count.
  mcast_peer.py stream GROUP PORT IFACE_ADDR SECONDS
      Sends a datagram every 20 ms for SECONDS (a kernel sender).
"""
import errno
import json
import select
import socket
import struct
import sys
import time


# <linux/in.h>; Python's socket module lacks these.
IP_ADD_SOURCE_MEMBERSHIP = 39
IP_DROP_SOURCE_MEMBERSHIP = 40
IP_MULTICAST_ALL = 49


def ifindex(name):
    return socket.if_nametoindex(name)


def mreqn(group, index):
    return struct.pack("4s4si", socket.inet_aton(group), socket.inet_aton("0.0.0.0"), index)


def mreq_source(group, iface, source):
    # struct ip_mreq_source: multiaddr, interface, sourceaddr.
    return socket.inet_aton(group) + socket.inet_aton(iface) + socket.inet_aton(source)


def bound(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.setblocking(False)
    return s


def errno_of(fn):
    try:
        fn()
        return 0
    except OSError as e:
        return errno.errorcode.get(e.errno, e.errno)


def errnos(group, iface):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    idx = ifindex(iface)
    ip = socket.IPPROTO_IP
    out = {}
    out["not_a_group"] = errno_of(lambda: s.setsockopt(ip, socket.IP_ADD_MEMBERSHIP, mreqn("198.18.0.9", idx)))
    out["short"] = errno_of(lambda: s.setsockopt(ip, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(group)))
    out["join"] = errno_of(lambda: s.setsockopt(ip, socket.IP_ADD_MEMBERSHIP, mreqn(group, idx)))
    out["join_again"] = errno_of(lambda: s.setsockopt(ip, socket.IP_ADD_MEMBERSHIP, mreqn(group, idx)))
    out["drop_unjoined"] = errno_of(
        lambda: s.setsockopt(ip, socket.IP_DROP_MEMBERSHIP, mreqn("239.198.18.99", idx)))
    out["source_len"] = errno_of(
        lambda: s.setsockopt(ip, IP_ADD_SOURCE_MEMBERSHIP, socket.inet_aton(group) * 2))
    out["drop"] = errno_of(lambda: s.setsockopt(ip, socket.IP_DROP_MEMBERSHIP, mreqn(group, idx)))
    out["drop_again"] = errno_of(lambda: s.setsockopt(ip, socket.IP_DROP_MEMBERSHIP, mreqn(group, idx)))
    out["ttl"] = errno_of(lambda: s.setsockopt(ip, socket.IP_MULTICAST_TTL, 300))
    s.setsockopt(ip, socket.IP_MULTICAST_TTL, 7)
    out["ttl_read"] = s.getsockopt(ip, socket.IP_MULTICAST_TTL)
    out["loop_read"] = s.getsockopt(ip, socket.IP_MULTICAST_LOOP)
    out["all_read"] = s.getsockopt(ip, IP_MULTICAST_ALL)
    s.close()
    return out


def recv(group, port, iface, addr, source, other):
    idx = ifindex(iface)
    socks = {"any": bound(port), "ssm": bound(port), "other": bound(port)}
    ip = socket.IPPROTO_IP
    socks["any"].setsockopt(ip, socket.IP_ADD_MEMBERSHIP, mreqn(group, idx))
    socks["ssm"].setsockopt(ip, IP_ADD_SOURCE_MEMBERSHIP, mreq_source(group, addr, source))
    socks["other"].setsockopt(ip, IP_ADD_SOURCE_MEMBERSHIP, mreq_source(group, addr, other))
    # A socket with IP_MULTICAST_ALL off and no membership of its own: none.
    quiet = bound(port)
    quiet.setsockopt(ip, IP_MULTICAST_ALL, 0)
    socks["quiet"] = quiet
    print("joined", flush=True)
    before = {k: 0 for k in socks}
    after = {k: 0 for k in socks}
    by_fd = {s.fileno(): k for k, s in socks.items()}

    def count(into, until, stop_at=None):
        while time.monotonic() < until:
            if stop_at is not None and into["any"] >= stop_at:
                return
            r, _, _ = select.select(list(socks.values()), [], [], 0.05)
            for s in r:
                try:
                    while True:
                        s.recvfrom(2048)
                        into[by_fd[s.fileno()]] += 1
                except BlockingIOError:
                    pass

    count(before, time.monotonic() + 10, stop_at=20)
    socks["any"].setsockopt(ip, socket.IP_DROP_MEMBERSHIP, mreqn(group, idx))
    socks["ssm"].setsockopt(ip, IP_DROP_SOURCE_MEMBERSHIP, mreq_source(group, addr, source))
    socks["other"].setsockopt(ip, IP_DROP_SOURCE_MEMBERSHIP, mreq_source(group, addr, other))
    # Datagrams already queued before the leave are not "after".
    count(after, time.monotonic() + 0.2)
    after = {k: 0 for k in socks}
    print("left", flush=True)
    count(after, time.monotonic() + 1.0)
    print(json.dumps({"before": before, "after": after}), flush=True)


def send(group, port, addr, n, loop=True):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(addr))
    if not loop:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    got = socket.inet_ntoa(s.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, 4))
    for i in range(n):
        s.sendto(b"n %d" % i, (group, port))
        time.sleep(0.01)
    print(json.dumps({"sent": n, "multicast_if": got}), flush=True)


def count_only(group, port, addr, seconds, reuse_port=False):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("0.0.0.0", port))
    # The interface by its address, or by its name (one without an address).
    if addr[0].isdigit():
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(group) + socket.inet_aton(addr))
    else:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn(group, ifindex(addr)))
    s.settimeout(0.2)
    print("joined", flush=True)
    n = 0
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        try:
            s.recvfrom(2048)
            n += 1
        except socket.timeout:
            pass
    print(n, flush=True)


def stream(group, port, addr, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(addr))
    print("ready", flush=True)
    until = time.monotonic() + seconds
    i = 0
    while time.monotonic() < until:
        s.sendto(b"tick %d" % i, (group, port))
        i += 1
        time.sleep(0.02)


def main():
    cmd = sys.argv[1]
    if cmd == "recv":
        recv(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7])
    elif cmd == "errnos":
        print(json.dumps(errnos(sys.argv[2], sys.argv[3])), flush=True)
    elif cmd == "send":
        send(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6:7] != ["noloop"])
    elif cmd == "count":
        count_only(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]), sys.argv[6:7] == ["reuseport"])
    elif cmd == "stream":
        stream(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
