#!/usr/bin/env python3
"""IPv6 multicast, from the socket API as programs use it (mcast_peer.py's
IPv6 counterpart).

  mcast6_peer.py recv GROUP PORT IFACE SOURCE OTHER
      Three AF_INET6 sockets on [::]:PORT (SO_REUSEADDR): "any" joins GROUP
      for any source (IPV6_JOIN_GROUP, by IFACE's index), "ssm" joins it for
      SOURCE only, "other" for OTHER only (MCAST_JOIN_SOURCE_GROUP); a
      fourth, "quiet", has IPV6_MULTICAST_ALL off and no membership. Prints
      "joined", counts datagrams per socket until "any" has 20 (at most
      10 s), leaves on every socket, prints "left", counts for 1 s more, and
      prints one JSON line: before, after (per socket).
  mcast6_peer.py errnos GROUP IFACE SOURCE
      Linux's answers to misuse of the membership options, and the
      IPV6_MULTICAST_* options read back, as JSON.
  mcast6_peer.py send GROUP PORT IFACE COUNT
      Sends COUNT datagrams ("n <i>") to GROUP:PORT (no scope id) out of
      IFACE (IPV6_MULTICAST_IF), 10 ms apart, default hop limit (1).
  mcast6_peer.py count GROUP PORT IFACE SECONDS
      Joins GROUP on IFACE, prints "joined", counts datagrams for SECONDS
      and prints the count.
  mcast6_peer.py stream GROUP PORT IFACE FROM SECONDS
      Sends a datagram every 20 ms for SECONDS out of IFACE from address
      FROM (a kernel sender; bound, since for a link-scope group the
      kernel would otherwise pick its link-local source, RFC 6724 rule 2).
"""
import errno
import json
import select
import socket
import struct
import sys
import time

V6 = socket.IPPROTO_IPV6
# <linux/in6.h> and <linux/in.h> (MCAST_*: the same numbers at both
# levels); Python's socket module lacks these.
IPV6_MULTICAST_ALL = 29
MCAST_JOIN_GROUP = 42
MCAST_BLOCK_SOURCE = 43
MCAST_LEAVE_GROUP = 45
MCAST_JOIN_SOURCE_GROUP = 46
MCAST_LEAVE_SOURCE_GROUP = 47


def addr(a):
    return socket.inet_pton(socket.AF_INET6, a)


def mreq(group, index):
    # struct ipv6_mreq: the group, then the interface index.
    return addr(group) + struct.pack("i", index)


def storage(a, family=socket.AF_INET6):
    # A sockaddr_in6 in a sockaddr_storage (128 bytes).
    return struct.pack("=HHI16sI", family, 0, 0, addr(a), 0).ljust(128, b"\0")


def group_req(group, index, family=socket.AF_INET6):
    # struct group_req: a 32-bit index, padding to the storage's alignment.
    return struct.pack("=I4x", index) + storage(group, family)


def group_source_req(group, source, index):
    return struct.pack("=I4x", index) + storage(group) + storage(source)


def bound(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    s.setblocking(False)
    return s


def errno_of(fn):
    try:
        fn()
        return 0
    except OSError as e:
        return errno.errorcode.get(e.errno, e.errno)


def errnos(group, iface, source):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::", 0))
    idx = socket.if_nametoindex(iface)
    out = {}

    def opt(name, value, sock=s):
        return errno_of(lambda: sock.setsockopt(V6, name, value))

    other = group[:-1] + "9"  # a group nobody joined
    out["not_a_group"] = opt(socket.IPV6_JOIN_GROUP, mreq(source, idx))
    out["short"] = opt(socket.IPV6_JOIN_GROUP, addr(group))
    out["join"] = opt(socket.IPV6_JOIN_GROUP, mreq(group, idx))
    out["join_again"] = opt(socket.IPV6_JOIN_GROUP, mreq(group, 0))
    out["drop_unjoined"] = opt(socket.IPV6_LEAVE_GROUP, mreq(other, idx))
    out["group_family"] = opt(MCAST_JOIN_GROUP, group_req(other, idx, socket.AF_INET))
    out["source_len"] = opt(MCAST_JOIN_SOURCE_GROUP, group_source_req(group, source, idx)[:-1])
    out["drop"] = opt(MCAST_LEAVE_GROUP, group_req(group, idx))
    out["drop_again"] = opt(socket.IPV6_LEAVE_GROUP, mreq(group, idx))
    # Source filters: a block needs a prior join; a source joined twice;
    # an any-source join over a source-specific one.
    out["block_unjoined"] = opt(MCAST_BLOCK_SOURCE, group_source_req(group, source, idx))
    out["source_join"] = opt(MCAST_JOIN_SOURCE_GROUP, group_source_req(group, source, idx))
    out["source_join_again"] = opt(MCAST_JOIN_SOURCE_GROUP, group_source_req(group, source, idx))
    out["any_over_source"] = opt(socket.IPV6_JOIN_GROUP, mreq(group, idx))
    out["block_on_include"] = opt(MCAST_BLOCK_SOURCE, group_source_req(group, source, idx))
    # Leaving the last source leaves the group.
    out["source_leave"] = opt(MCAST_LEAVE_SOURCE_GROUP, group_source_req(group, source, idx))
    out["source_leave_again"] = opt(MCAST_LEAVE_SOURCE_GROUP, group_source_req(group, source, idx))
    out["if_unknown"] = opt(socket.IPV6_MULTICAST_IF, 99999)
    out["if"] = opt(socket.IPV6_MULTICAST_IF, idx)
    out["if_read"] = "iface" if s.getsockopt(V6, socket.IPV6_MULTICAST_IF) == idx else "other"
    out["hops"] = opt(socket.IPV6_MULTICAST_HOPS, 256)
    s.setsockopt(V6, socket.IPV6_MULTICAST_HOPS, 7)
    out["hops_read"] = s.getsockopt(V6, socket.IPV6_MULTICAST_HOPS)
    s.setsockopt(V6, socket.IPV6_MULTICAST_HOPS, -1)
    out["hops_default"] = s.getsockopt(V6, socket.IPV6_MULTICAST_HOPS)
    out["loop"] = opt(socket.IPV6_MULTICAST_LOOP, 2)
    s.setsockopt(V6, socket.IPV6_MULTICAST_LOOP, 0)
    out["loop_read"] = s.getsockopt(V6, socket.IPV6_MULTICAST_LOOP)
    out["all_read"] = s.getsockopt(V6, IPV6_MULTICAST_ALL)
    s.close()
    # Level IPPROTO_IPV6 on an AF_INET socket.
    s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out["on_inet"] = opt(socket.IPV6_JOIN_GROUP, mreq(group, idx), sock=s4)
    s4.close()
    return out


def recv(group, port, iface, source, other):
    idx = socket.if_nametoindex(iface)
    socks = {"any": bound(port), "ssm": bound(port), "other": bound(port)}
    socks["any"].setsockopt(V6, socket.IPV6_JOIN_GROUP, mreq(group, idx))
    socks["ssm"].setsockopt(V6, MCAST_JOIN_SOURCE_GROUP, group_source_req(group, source, idx))
    socks["other"].setsockopt(V6, MCAST_JOIN_SOURCE_GROUP, group_source_req(group, other, idx))
    # A socket with IPV6_MULTICAST_ALL off and no membership of its own: none.
    quiet = bound(port)
    quiet.setsockopt(V6, IPV6_MULTICAST_ALL, 0)
    socks["quiet"] = quiet
    print("joined", flush=True)
    before = {k: 0 for k in socks}
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
    socks["any"].setsockopt(V6, socket.IPV6_LEAVE_GROUP, mreq(group, idx))
    socks["ssm"].setsockopt(V6, MCAST_LEAVE_SOURCE_GROUP, group_source_req(group, source, idx))
    socks["other"].setsockopt(V6, MCAST_LEAVE_SOURCE_GROUP, group_source_req(group, other, idx))
    # Datagrams already queued before the leave are not "after".
    after = {k: 0 for k in socks}
    count(after, time.monotonic() + 0.2)
    after = {k: 0 for k in socks}
    print("left", flush=True)
    count(after, time.monotonic() + 1.0)
    print(json.dumps({"before": before, "after": after}), flush=True)


def send(group, port, iface, n):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    idx = socket.if_nametoindex(iface)
    s.setsockopt(V6, socket.IPV6_MULTICAST_IF, idx)
    got = s.getsockopt(V6, socket.IPV6_MULTICAST_IF)
    for i in range(n):
        s.sendto(b"n %d" % i, (group, port))
        time.sleep(0.01)
    print(json.dumps({"sent": n, "multicast_if": "iface" if got == idx else got,
                      "hops": s.getsockopt(V6, socket.IPV6_MULTICAST_HOPS)}), flush=True)


def count_only(group, port, iface, seconds, reuse_port=False):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("::", port))
    s.setsockopt(V6, socket.IPV6_JOIN_GROUP, mreq(group, socket.if_nametoindex(iface)))
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


def stream(group, port, iface, src, seconds):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.setsockopt(V6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex(iface))
    print("ready", flush=True)
    until = time.monotonic() + seconds
    i = 0
    while time.monotonic() < until:
        s.sendto(b"tick %d" % i, (group, port))
        i += 1
        time.sleep(0.02)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "recv":
        recv(args[0], int(args[1]), args[2], args[3], args[4])
    elif cmd == "errnos":
        print(json.dumps(errnos(args[0], args[1], args[2])), flush=True)
    elif cmd == "send":
        send(args[0], int(args[1]), args[2], int(args[3]))
    elif cmd == "count":
        count_only(args[0], int(args[1]), args[2], float(args[3]), args[4:5] == ["reuseport"])
    elif cmd == "stream":
        stream(args[0], int(args[1]), args[2], args[3], float(args[4]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
