#!/usr/bin/env python3
"""The far end of a GENEVE, GUE or VXLAN tunnel, written with scapy (not
ours): sends echo requests (UDP datagrams and ICMP echo) encapsulated to the
server's inner address, answers the ARP requests that arrive inside the
tunnel, and checks every answer field by field (outer addresses and ports,
the encapsulation header, the inner headers and checksums, the payload).

  tunnel_peer.py echo --iface IF --kind geneve|gue|vxlan --local IP --remote IP
                 --mac MAC --inner-local IP --inner-remote IP [--vni N]
                 [--port N] [--count N] [--ping N]
  tunnel_peer.py bad  ... (same options): sends a wrong-VNI frame, a
                 truncated header and (GENEVE) a critical option, and checks
                 that nothing comes back.

Prints "ok ..." and exits 0, or prints what was wrong and exits 1."""
import argparse
import ipaddress
import os
import random
import socket
import sys
import time

from scapy.all import (ARP, ICMP, IP, UDP, AsyncSniffer, Ether, IPv6, Raw, conf, get_if_hwaddr, sendp)
from scapy.contrib.geneve import GENEVE, GeneveOptions
from scapy.layers.vxlan import VXLAN

conf.verb = 0
PEER_INNER_MAC = "02:00:00:00:77:01"
STD_PORT = {"vxlan": 4789, "geneve": 6081, "gue": 6080}


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def outer(a, payload_len_hint=None):
    v6 = ":" in a.remote
    ip = IPv6(src=a.local, dst=a.remote) if v6 else IP(src=a.local, dst=a.remote)
    return Ether(src=get_if_hwaddr(a.iface), dst=a.mac) / ip / UDP(sport=random.randint(40000, 50000), dport=a.port)


def encap(a, inner_l3, vni=None, critical=False):
    """inner_l3: an IP packet; Ethernet kinds wrap it in the peer's inner MAC."""
    vni = a.vni if vni is None else vni
    if a.kind == "gue":
        return outer(a) / Raw(bytes([0x00, 4, 0, 0])) / inner_l3
    inner = Ether(src=PEER_INNER_MAC, dst=a.inner_mac) / inner_l3
    if a.kind == "vxlan":
        return outer(a) / VXLAN(vni=vni) / inner
    opts = [GeneveOptions(classid=0x0102, type=0x83 if critical else 0x03, data=b"\xaa\xbb\xcc\xdd")]
    return outer(a) / GENEVE(vni=vni, proto=0x6558, critical=1 if critical else 0, options=opts) / inner


def decap(a, pkt):
    """The inner layer-3 packet of a frame from the server, checking the
    outer and encapsulation fields; None when the frame is not the tunnel's."""
    v6 = ":" in a.remote
    ip_layer = IPv6 if v6 else IP
    if ip_layer not in pkt or UDP not in pkt:
        return None
    o = pkt[ip_layer]
    u = pkt[UDP]
    if o.src != a.remote or o.dst != a.local or u.dport != a.port:
        return None
    if not 32768 <= u.sport <= 60999:
        fail(f"outer source port {u.sport} outside the ephemeral range")
    raw = bytes(u.payload)
    if v6:
        if u.chksum == 0:
            fail("zero outer UDP checksum over IPv6")
        check = IPv6(bytes(o))
        del check[UDP].chksum
        if IPv6(bytes(check))[UDP].chksum != u.chksum:
            fail("wrong outer UDP checksum over IPv6")
    elif u.chksum != 0:
        fail(f"outer UDP checksum {u.chksum:#x} over IPv4 (expected 0, RFC 7348's default)")
    if a.kind == "gue":
        if raw[0] != 0x00 or raw[1] != 4:
            fail(f"GUE header {raw[:4].hex()} is not variant 0 carrying IPv4")
        return IP(raw[4:])
    if a.kind == "vxlan":
        h = VXLAN(raw)
        if h.flags & 0x08 == 0 or h.vni != a.vni:
            fail(f"VXLAN flags {h.flags:#x} vni {h.vni}")
        inner = Ether(bytes(h.payload))
    else:
        h = GENEVE(raw)
        if h.version != 0 or h.proto != 0x6558 or h.vni != a.vni or h.critical or h.oam:
            fail(f"GENEVE ver {h.version} proto {h.proto:#x} vni {h.vni} critical {h.critical} oam {h.oam}")
        inner = Ether(bytes(h.payload))
    if inner.src != a.inner_mac:
        fail(f"inner source MAC {inner.src}, expected the server's {a.inner_mac}")
    if ARP in inner:
        return inner  # the caller answers it
    if inner.dst != PEER_INNER_MAC:
        fail(f"inner destination MAC {inner.dst}")
    return inner[IP] if IP in inner else None


def valid_inner(ip):
    again = IP(bytes(ip))
    del again.chksum
    if IP(bytes(again)).chksum != ip.chksum:
        fail("wrong inner IPv4 header checksum")
    if UDP in ip:
        u = ip[UDP].copy()
        u.chksum = None
        rebuilt = IP(bytes(IP(src=ip.src, dst=ip.dst, proto=17) / u))
        if ip[UDP].chksum not in (0, rebuilt[UDP].chksum):
            fail("wrong inner UDP checksum")


def run(a, requests, expect):
    """Sends each request in turn and waits (bounded) for its answer;
    answers ARP inside the tunnel as it goes."""
    got = []
    arp_answered = 0
    captured = []
    sniffer = AsyncSniffer(iface=a.iface, prn=captured.append, store=False)
    sniffer.start()
    time.sleep(0.3)
    seen = 0
    for i, req in enumerate(requests):
        sendp(req, iface=a.iface)
        deadline = time.time() + 3
        while time.time() < deadline:
            for pkt in captured[seen:]:
                seen += 1
                inner = decap(a, pkt)
                if inner is None:
                    continue
                if ARP in inner:
                    r = inner[ARP]
                    if r.op == 1 and r.pdst == a.inner_local:
                        arp_answered += 1
                        reply = ARP(op=2, hwsrc=PEER_INNER_MAC, psrc=a.inner_local, hwdst=r.hwsrc, pdst=r.psrc)
                        sendp(encap(a, reply), iface=a.iface)
                    continue
                valid_inner(inner)
                got.append(inner)
            if len(got) > i:
                break
            time.sleep(0.01)
        if len(got) <= i:
            sniffer.stop()
            fail(f"no answer to request {i + 1} of {len(requests)}")
    sniffer.stop()
    for req_inner, ans in zip(expect, got):
        if not req_inner(ans):
            fail(f"unexpected answer {ans.summary()}")
    return arp_answered


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["echo", "bad"])
    ap.add_argument("--iface", required=True)
    ap.add_argument("--kind", required=True, choices=["vxlan", "geneve", "gue"])
    ap.add_argument("--local", required=True)
    ap.add_argument("--remote", required=True)
    ap.add_argument("--mac", required=True, help="the server's (outer and inner) MAC")
    ap.add_argument("--inner-local", required=True)
    ap.add_argument("--inner-remote", required=True)
    ap.add_argument("--vni", type=int, default=0)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--echo-port", type=int, default=7)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--ping", type=int, default=3)
    a = ap.parse_args()
    a.port = a.port or STD_PORT[a.kind]
    a.inner_mac = a.mac
    # The tunnel's replies come to our port: a socket there keeps the
    # kernel from answering them with port-unreachable.
    fam = socket.AF_INET6 if ":" in a.local else socket.AF_INET
    hold = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        hold.bind((a.local, a.port))
    except OSError:
        pass  # a kernel tunnel device has it (and takes the replies itself)

    if a.what == "bad":
        captured = []
        sniffer = AsyncSniffer(iface=a.iface, prn=captured.append, store=False)
        sniffer.start()
        time.sleep(0.3)
        inner = IP(src=a.inner_local, dst=a.inner_remote) / UDP(sport=40000, dport=a.echo_port) / Raw(b"bad")
        frames = []
        if a.kind != "gue":
            frames.append(encap(a, inner, vni=a.vni + 1))  # a VNI nobody serves
        truncated = outer(a) / Raw(b"\x08\x00\x00" if a.kind != "gue" else b"\x02\x04")
        frames.append(truncated)
        if a.kind == "geneve":
            frames.append(encap(a, inner, critical=True))
        for f in frames:
            sendp(f, iface=a.iface)
        time.sleep(1.0)
        sniffer.stop()
        for pkt in captured:
            if decap(a, pkt) is not None:
                fail("the server answered a frame it must drop: " + pkt.summary())
        print(f"ok {len(frames)} bad frames sent, none answered", flush=True)
        return

    random.seed(os.getpid())
    requests, expect = [], []
    for i in range(a.count):
        # Within the veth's 1500 bytes: GENEVE over IPv6 with its 8-byte
        # option leaves 1394 bytes of inner UDP payload.
        size = random.randint(1, 1380 if ":" in a.remote else 1400)
        payload = bytes(random.getrandbits(8) for _ in range(size))
        inner = IP(src=a.inner_local, dst=a.inner_remote) / UDP(sport=40000 + i, dport=a.echo_port) / Raw(payload)
        requests.append(encap(a, inner))
        expect.append(lambda ans, p=payload, sport=40000 + i: UDP in ans and ans[UDP].dport == sport and ans[
            UDP].sport == a.echo_port and bytes(ans[UDP].payload) == p and ans.src == a.inner_remote and ans.dst ==
                      a.inner_local)
    for i in range(a.ping):
        inner = IP(src=a.inner_local, dst=a.inner_remote) / ICMP(type=8, id=0x77, seq=i) / Raw(b"tunnel ping")
        requests.append(encap(a, inner))
        expect.append(lambda ans, s=i: ICMP in ans and ans[ICMP].type == 0 and ans[ICMP].seq == s and bytes(ans[
            ICMP].payload) == b"tunnel ping")
    arps = run(a, requests, expect)
    print(f"ok {a.count} datagrams echoed and {a.ping} pings answered through {a.kind} "
          f"({'IPv6' if ':' in a.remote else 'IPv4'} outer), {arps} inner ARP requests answered", flush=True)


if __name__ == "__main__":
    main()
