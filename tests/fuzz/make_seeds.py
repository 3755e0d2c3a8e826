#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz (corpus/<target>/) from frames
python3-scapy builds and the unit tests' fixtures. Run once when a target
or the stack's features change; the output is committed."""
import os
import shutil
import socket
import struct

from scapy.all import (ARP, ICMP, IP, UDP, Dot1Q, Ether, IPv6, Raw, ICMPv6EchoRequest, ICMPv6ND_NS,
                       ICMPv6ND_NA, ICMPv6NDOptSrcLLAddr, ICMPv6ND_RA, ICMPv6NDOptPrefixInfo, ICMPv6NDOptMTU)
from scapy.contrib.geneve import GENEVE, GeneveOptions
from scapy.layers.vxlan import VXLAN

HERE = os.path.dirname(os.path.abspath(__file__))
US = "02:00:00:00:00:0a"
PEER = "02:00:00:00:00:0b"
IP_US, IP_PEER = "198.18.0.1", "198.18.0.2"
IP6_US, IP6_PEER = "2001:2::1", "2001:2::2"


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def frames():
    e = Ether(src=PEER, dst=US)
    udp4 = e / IP(src=IP_PEER, dst=IP_US) / UDP(sport=40000, dport=7) / Raw(b"hello")
    yield "arp_request", Ether(src=PEER, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=PEER, psrc=IP_PEER, pdst=IP_US)
    yield "arp_reply", e / ARP(op=2, hwsrc=PEER, psrc=IP_PEER, hwdst=US, pdst=IP_US)
    yield "udp4", udp4
    yield "udp4_closed", e / IP(src=IP_PEER, dst=IP_US) / UDP(sport=40000, dport=999) / Raw(b"x")
    yield "udp4_options", e / IP(src=IP_PEER, dst=IP_US, options=b"\x01\x01\x01\x00") / UDP(sport=1, dport=7) / Raw(b"o")
    yield "udp4_fragment", e / IP(src=IP_PEER, dst=IP_US, flags=1, frag=0) / UDP(sport=1, dport=7) / Raw(b"f" * 16)
    yield "icmp_echo", e / IP(src=IP_PEER, dst=IP_US) / ICMP(id=1, seq=1) / Raw(b"ping")
    yield "icmp_unreach", e / IP(src=IP_PEER, dst=IP_US) / ICMP(type=3, code=3) / bytes(
        IP(src=IP_US, dst=IP_PEER) / UDP(sport=7, dport=40000) / Raw(b"q"))
    yield "vlan_200", Ether(src=PEER, dst=US) / Dot1Q(vlan=200) / IP(src=IP_PEER, dst=IP_US) / UDP(dport=7) / Raw(b"v")
    yield "vlan_native", Ether(src=PEER, dst=US) / Dot1Q(vlan=10) / ARP(op=1, hwsrc=PEER, psrc=IP_PEER, pdst=IP_US)
    e6 = Ether(src=PEER, dst=US) / IPv6(src=IP6_PEER, dst=IP6_US)
    yield "udp6", e6 / UDP(sport=40000, dport=53) / Raw(b"six")
    yield "udp6_hbh", Ether(src=PEER, dst=US) / IPv6(src=IP6_PEER, dst=IP6_US, nh=0) / Raw(
        b"\x11\x00\x01\x04\x00\x00\x00\x00") / UDP(sport=1, dport=53) / Raw(b"h")
    yield "echo6", e6 / ICMPv6EchoRequest(id=1, seq=1)
    yield "ns", Ether(src=PEER, dst="33:33:ff:00:00:01") / IPv6(src=IP6_PEER, dst="ff02::1:ff00:1", hlim=255) / \
        ICMPv6ND_NS(tgt=IP6_US) / ICMPv6NDOptSrcLLAddr(lladdr=PEER)
    yield "na", e6 / ICMPv6ND_NA(tgt=IP6_PEER, R=0, S=1, O=1)
    yield "ra", Ether(src=PEER, dst="33:33:00:00:00:01") / IPv6(src="fe80::2", dst="ff02::1", hlim=255) / \
        ICMPv6ND_RA() / ICMPv6NDOptPrefixInfo(prefix="2001:2::", prefixlen=64) / ICMPv6NDOptMTU(mtu=1400)
    inner = Ether(src="02:00:00:00:77:01", dst=US) / IP(src="198.19.1.2", dst="198.19.1.1") / UDP(
        sport=5000, dport=9) / Raw(b"inner")
    outer = e / IP(src=IP_PEER, dst=IP_US) / UDP(sport=50000, dport=4789)
    yield "vxlan_udp", outer / VXLAN(vni=100) / inner
    yield "vxlan_arp", outer / VXLAN(vni=100) / Ether(src="02:00:00:00:77:01", dst="ff:ff:ff:ff:ff:ff") / ARP(
        op=1, hwsrc="02:00:00:00:77:01", psrc="198.19.1.2", pdst="198.19.1.1")
    yield "vxlan_ns6", outer / VXLAN(vni=100) / Ether(src="02:00:00:00:77:01", dst="33:33:ff:00:00:01") / IPv6(
        src="2001:2:0:100::2", dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt="2001:2:0:100::1") / \
        ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:77:01")
    yield "vxlan_wrong_vni", outer / VXLAN(vni=7) / inner
    yield "gue_ip4", e / IP(src=IP_PEER, dst=IP_US) / UDP(sport=50000, dport=6080) / Raw(b"\x00\x04\x00\x00") / \
        IP(src="198.19.2.2", dst="198.19.2.1") / UDP(sport=1, dport=7) / Raw(b"g")
    yield "gue_ip6", e / IP(src=IP_PEER, dst=IP_US) / UDP(sport=50000, dport=6080) / Raw(b"\x00\x29\x00\x00") / \
        IPv6(src="2001:2:0:200::2", dst="2001:2:0:200::1") / UDP(sport=1, dport=53) / Raw(b"g6")
    yield "geneve_opt", e / IP(src=IP_PEER, dst=IP_US) / UDP(sport=50000, dport=6081) / GENEVE(
        vni=100, proto=0x6558, options=[GeneveOptions(classid=0x0102, type=0x03, data=b"\xaa\xbb\xcc\xdd")]) / inner


def main():
    shutil.rmtree(os.path.join(HERE, "corpus"), ignore_errors=True)
    all_frames = []
    for name, f in frames():
        raw = bytes(f)
        all_frames.append(raw)
        # fuzz_stack_rx: flags, then length-prefixed frames; each frame
        # alone, with and without the VLAN trunk and offloads.
        for flags in (0, 2, 4):
            write("fuzz_stack_rx", f"{name}_{flags}", bytes([flags]) + struct.pack(">H", len(raw)) + raw)
        # fuzz_wire: a selector byte, then the bytes its parser reads.
        write("fuzz_wire", f"eth_{name}", b"\x00" + raw)
        if ARP in f:
            write("fuzz_wire", f"arp_{name}", b"\x01" + bytes(f[ARP]))
        if IP in f:
            write("fuzz_wire", f"ip4_{name}", b"\x02" + bytes(f[IP]))
            if ICMP in f:
                write("fuzz_wire", f"icmp4_{name}", b"\x03" + bytes(f[ICMP]))
            if UDP in f:
                ip = f[IP]
                write("fuzz_wire", f"udp4_{name}", b"\x04" + socket.inet_aton(ip.src) + socket.inet_aton(ip.dst) +
                      bytes(f[UDP]))
        if IPv6 in f:
            ip6 = f[IPv6]
            write("fuzz_wire", f"ip6_{name}", b"\x05" + bytes(ip6))
            addrs = socket.inet_pton(socket.AF_INET6, ip6.src) + socket.inet_pton(socket.AF_INET6, ip6.dst)
            write("fuzz_wire", f"icmp6_{name}", b"\x06" + addrs + bytes(ip6.payload))
        if UDP in f and f[UDP].dport in (4789, 6080, 6081):
            write("fuzz_wire", f"tunnel_{name}", b"\x07" + bytes(f[UDP].payload))
    # A burst of everything, in each mode.
    burst = b"".join(struct.pack(">H", len(r)) + r for r in all_frames)
    for flags in (0, 1, 2, 4, 7):
        write("fuzz_stack_rx", f"burst_{flags}", bytes([flags]) + burst)
    # fuzz_config: the README's example settings and the unit fixtures.
    write("fuzz_config", "basic", b"DPDKUDP_BACKEND=af_packet\nDPDKUDP_IFACE=veth1\nDPDKUDP_IP=198.18.0.2/24\n")
    write("fuzz_config", "full", (
        "DPDKUDP_BACKEND=af_xdp\nDPDKUDP_IFACE=veth1\nDPDKUDP_IP=198.18.0.2/24\nDPDKUDP_GATEWAY=198.18.0.1\n"
        "DPDKUDP_IP6=2001:2::2/64\nDPDKUDP_GATEWAY6=fe80::1\n"
        "DPDKUDP_ROUTES=198.19.0.0/16 via 198.18.0.1 mtu 1400; 2001:2:0:10::/64 via fe80::1\n"
        "DPDKUDP_NEIGHBORS=198.18.0.1=02:00:00:00:00:01; fe80::1=02:00:00:00:00:01\n"
        "DPDKUDP_VLAN=100\nDPDKUDP_VLAN_MODE=trunk\nDPDKUDP_VLAN_ALLOWED=200,300-310\nDPDKUDP_VLAN_NATIVE=1\n"
        "DPDKUDP_VLAN_PCP=3\n"
        "DPDKUDP_TUNNEL=vxlan vni=100 remote=198.18.1.1 inner=198.19.1.2/24 inner6=2001:2:0:100::2/64; "
        "gue remote=2001:2::9 inner=198.19.3.2/30 port=5555\n"
        "DPDKUDP_MODE=shared\nDPDKUDP_QUEUES=2\nDPDKUDP_RX_RING=1024\nDPDKUDP_WAIT=thread\n"
        "DPDKUDP_EAL_ARGS=--no-pci --vdev=net_af_packet0,iface=veth1\n# comment\nexport DPDKUDP_LOG='info'\n").encode())
    # fuzz_stat_region: a shape byte, then bytes that fill the region.
    write("fuzz_stat_region", "zeros", b"\x01" + bytes(64))
    write("fuzz_stat_region", "text", b"\x02" + b"af_xdp\x00dedicated\x00veth1\x00198.18.0.2/24\x00" * 4)
    write("fuzz_stat_region", "counts", b"\x03" + struct.pack("<8I", 5, 1024, 4096, 0xffffffff, 3, 7, 0, 1))
    write("fuzz_stat_region", "no_zero", b"\x45" + b"\xff" * 64)
    write("fuzz_stat_region", "cut", b"\x81\x01\x40" + bytes(32))
    write("fuzz_stat_region", "raw_small", b"\x00" + b"dpdkudp" * 3)
    write("fuzz_stat_region", "raw_magic", b"\x00" + struct.pack("<QII", 0x3154415453445544, 1, 64) + bytes(48))
    fixtures = os.path.join(HERE, "..", "unit", "stack", "fixtures")
    os.makedirs(os.path.join(HERE, "corpus", "fuzz_proc_net"), exist_ok=True)
    for name in sorted(os.listdir(fixtures)):
        if name.startswith("proc_net"):
            shutil.copy(os.path.join(fixtures, name), os.path.join(HERE, "corpus", "fuzz_proc_net", name))


if __name__ == "__main__":
    main()
