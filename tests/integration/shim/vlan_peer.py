#!/usr/bin/env python3
"""A host on an 802.1Q segment, written with scapy (not ours): from its own
address it asks for the server's MAC (ARP), sends UDP datagrams to an echo
server and pings it, each frame tagged with --vid (or untagged), and checks
every answer: the tag it carries (VID and priority, or none), the MACs, the
addresses, checksums and payload.

  vlan_peer.py --iface IF --server-mac MAC --server IP --peer IP --port N
               --vid N|none --expect-tci N|none [--count N] [--ping N]
  vlan_peer.py ... --expect-tci silent: nothing may come back (a VID the
               server does not accept).

Prints "ok ..." and exits 0, or prints what was wrong and exits 1."""
import argparse
import random
import sys
import time

from scapy.all import ARP, ICMP, IP, UDP, AsyncSniffer, Dot1Q, Ether, Raw, conf, get_if_hwaddr, sendp

conf.verb = 0


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def tag_of(pkt):
    """(vid, pcp) of the frame's 802.1Q tag, None when untagged."""
    if Dot1Q in pkt:
        return pkt[Dot1Q].vlan, pkt[Dot1Q].prio
    return None


def frame(a, l3):
    eth = Ether(src=a.mac, dst=a.dst_mac)
    if a.vid is None:
        return eth / l3
    return eth / Dot1Q(vlan=a.vid, prio=1) / l3


def ours(a, pkt):
    """A frame the server sent to the peer (ARP for it, or IPv4 to it)."""
    if Ether not in pkt or pkt[Ether].src.lower() != a.server_mac.lower():
        return False
    if ARP in pkt:
        return pkt[ARP].pdst == a.peer
    return IP in pkt and pkt[IP].dst == a.peer


def exchange(a, frames, want, timeout=2.0):
    """Sends frames and returns what the server sent to the peer, waiting
    until `want` frames came or the timeout."""
    # Counted as they come (an AsyncSniffer's results exist only once it
    # stops), so a complete answer ends the wait; a little more time after
    # it lets a duplicate show.
    seen = []
    sniffer = AsyncSniffer(iface=a.iface, lfilter=lambda p: ours(a, p), prn=seen.append, store=False)
    sniffer.start()
    time.sleep(0.3)
    sendp(frames, iface=a.iface, verbose=False)
    deadline = time.time() + timeout
    while time.time() < deadline and len(seen) < want:
        time.sleep(0.05)
    time.sleep(0.3)
    sniffer.stop()
    return list(seen)


def check_tag(a, pkt, what):
    got = tag_of(pkt)
    if a.expect is None:
        if got is not None:
            fail(f"{what}: tagged (VID {got[0]}, PCP {got[1]}), expected untagged")
        return
    vid, pcp = a.expect & 0x0FFF, a.expect >> 13
    if got != (vid, pcp):
        fail(f"{what}: tag {got}, expected (VID {vid}, PCP {pcp})")


def check_ip(pkt, what):
    ip = pkt[IP]
    raw = IP(bytes(ip))
    c = raw.copy()
    del c.chksum
    if UDP in c:
        del c[UDP].chksum
    if ICMP in c:
        del c[ICMP].chksum
    rebuilt = IP(bytes(c))
    if rebuilt.chksum != raw.chksum:
        fail(f"{what}: bad IPv4 header checksum")
    if UDP in raw and raw[UDP].chksum != 0 and rebuilt[UDP].chksum != raw[UDP].chksum:
        fail(f"{what}: bad UDP checksum")
    if ICMP in raw and rebuilt[ICMP].chksum != raw[ICMP].chksum:
        fail(f"{what}: bad ICMP checksum")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iface", required=True)
    p.add_argument("--server-mac", required=True)
    p.add_argument("--server", required=True)
    p.add_argument("--peer", required=True)
    p.add_argument("--port", type=int, default=7)
    p.add_argument("--vid", required=True)
    p.add_argument("--expect-tci", required=True)
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--ping", type=int, default=3)
    a = p.parse_args()
    a.vid = None if a.vid == "none" else int(a.vid, 0)
    silent = a.expect_tci == "silent"
    a.expect = None if a.expect_tci in ("none", "silent") else int(a.expect_tci, 0)
    a.mac = get_if_hwaddr(a.iface)
    label = "untagged" if a.vid is None else f"VID {a.vid}"

    # 1. ARP, broadcast.
    a.dst_mac = "ff:ff:ff:ff:ff:ff"
    got = exchange(a, [frame(a, ARP(op=1, hwsrc=a.mac, psrc=a.peer, pdst=a.server))], 1, 1.5 if silent else 3)
    if silent:
        # A datagram and a ping too, to the right MAC: none may be answered.
        a.dst_mac = a.server_mac
        more = exchange(a, [frame(a, IP(src=a.peer, dst=a.server) / UDP(sport=40000, dport=a.port) / Raw(b"x")),
                            frame(a, IP(src=a.peer, dst=a.server) / ICMP(id=1, seq=1))], 1, 1.5)
        if got or more:
            fail(f"{label}: {len(got) + len(more)} answers to a VID the server does not accept: "
                 f"{(got + more)[0].summary()}")
        print(f"ok {label}: ARP, a datagram and a ping dropped, nothing answered", flush=True)
        return
    replies = [x for x in got if ARP in x and x[ARP].op == 2]
    if not replies:
        fail(f"{label}: no ARP reply ({len(got)} frames)")
    r = replies[0]
    check_tag(a, r, f"{label}: ARP reply")
    if r[ARP].psrc != a.server or r[ARP].hwsrc.lower() != a.server_mac.lower() or r[Ether].dst.lower() != a.mac.lower():
        fail(f"{label}: ARP reply fields: {r.summary()}")

    # 2. Datagrams to the echo server, each answered once, tagged as expected.
    a.dst_mac = a.server_mac
    payloads = [bytes(random.getrandbits(8) for _ in range(random.randint(1, 1400))) for _ in range(a.count)]
    sport = random.randint(40000, 50000)
    frames = [frame(a, IP(src=a.peer, dst=a.server) / UDP(sport=sport, dport=a.port) / Raw(x)) for x in payloads]
    got = [x for x in exchange(a, frames, a.count, 5) if UDP in x]
    if len(got) != a.count:
        fail(f"{label}: {len(got)} echoes of {a.count} datagrams")
    for i, x in enumerate(got):
        check_tag(a, x, f"{label}: echo {i}")
        check_ip(x, f"{label}: echo {i}")
        if x[Ether].dst.lower() != a.mac.lower() or x[IP].src != a.server or x[UDP].dport != sport:
            fail(f"{label}: echo {i} fields: {x.summary()}")
        if bytes(x[UDP].payload) != payloads[i]:
            fail(f"{label}: echo {i} payload differs ({len(bytes(x[UDP].payload))} bytes back, "
                 f"{len(payloads[i])} sent)")

    # 3. Ping.
    frames = [frame(a, IP(src=a.peer, dst=a.server) / ICMP(id=0x4242, seq=i) / Raw(b"vlan-ping")) for i in range(a.ping)]
    got = [x for x in exchange(a, frames, a.ping, 3) if ICMP in x and x[ICMP].type == 0]
    if len(got) != a.ping:
        fail(f"{label}: {len(got)} echo replies of {a.ping} pings")
    for x in got:
        check_tag(a, x, f"{label}: echo reply")
        check_ip(x, f"{label}: echo reply")
    expect = "untagged" if a.expect is None else f"tagged VID {a.expect & 0xfff} PCP {a.expect >> 13}"
    print(f"ok {label}: ARP answered, {a.count} datagrams echoed and {a.ping} pings answered, all {expect}",
          flush=True)


if __name__ == "__main__":
    main()
