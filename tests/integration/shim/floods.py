#!/usr/bin/env python3
"""Hostile floods at an unmodified echo server under the shim (issue 16),
from trafgen (netsniff-ng) in the peer namespace at the highest rate it
gives, each bounded in frames. After each flood the server's live counters
(dpdkudp-stat --json) must account for every frame — taken in by the stack
or counted as missed by the device, and every frame taken in delivered,
consumed or counted under a drop reason — nothing must be answered that
should not be, the server must answer a normal client at once, and its
memory must stay flat. Prints a table of what was offered and what held.

  floods.py --ns-cli NS --dev VETH --srv-ip IP --cli-ip IP --srv-mac MAC
            --cli-mac MAC --port PORT --pid PID --stat PATH --logdir DIR
            [--only FLOOD] --client CMD..."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

FRAMES = 200_000


def mac_bytes(mac):
    return ",".join("0x" + b for b in mac.split(":"))


def ip_bytes(ip):
    return ",".join(ip.split("."))


class Checker:
    def __init__(self, a):
        self.a = a
        self.failures = []
        self.rows = []

    def stats(self):
        time.sleep(0.3)  # the region is published at the 50 ms tick
        out = subprocess.run([self.a.stat, "--json", str(self.a.pid)], check=True, capture_output=True, text=True)
        d = json.loads(out.stdout)
        return d[0] if isinstance(d, list) else d

    def rss_kb(self):
        with open(f"/proc/{self.a.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def trafgen(self, name, config, frames=FRAMES):
        path = os.path.join(self.a.logdir, name + ".cfg")
        with open(path, "w") as f:
            f.write(config)
        start = time.monotonic()
        r = subprocess.run(["ip", "netns", "exec", self.a.ns_cli, "trafgen", "--no-sock-mem", "-o", self.a.dev, "-i",
                            path, "-n", str(frames), "-P", "1", "-q"], timeout=120, capture_output=True, text=True)
        if r.returncode != 0:
            # Its TX ring flush can meet EAGAIN when the veth peer's XDP
            # backlog is full: the flood is then of unknown size; run it again.
            print(f"trafgen ({name}): {r.stderr.strip().splitlines()[-1:]} - again", flush=True)
            return None
        return frames / (time.monotonic() - start)

    def client_ok(self, what):
        start = time.monotonic()
        r = subprocess.run(self.a.client, capture_output=True, text=True, timeout=60)
        took = time.monotonic() - start
        if r.returncode != 0:
            self.failures.append(f"{what}: the normal client failed: {r.stdout.strip()} {r.stderr.strip()}")
        return took

    def flood(self, name, config, expect, xdp_passes=False):
        """expect(totals0, totals1, reasons0, reasons1, taken) -> failure strings.
        xdp_passes: AF_XDP's program passes these frames to the kernel (not
        ours: ARP for other addresses, frames too short to name a port), so
        over af_xdp the stack must not see them at all."""
        for _ in range(3):
            before = self.stats()
            rate = self.trafgen(name, config)
            if rate is not None:
                break
        else:
            self.failures.append(f"{name}: trafgen failed three times")
            return
        after = self.stats()
        t0, t1 = before["totals"], after["totals"]
        d0, d1 = before["drops"], after["drops"]
        taken = t1["rx_frames"] - t0["rx_frames"]
        missed = (d1["nic_missed"] - d0["nic_missed"]) + (d1["nic_no_buffer"] - d0["nic_no_buffer"])
        fates = sum(t1[k] - t0[k] for k in ("udp_delivered", "arp_received", "icmp_echo_replies",
                                           "icmp_errors_received"))
        fates += sum(d1["by_reason"][k] - d0["by_reason"][k] for k in d1["by_reason"])
        problems = []
        if xdp_passes and after["backend"] == "af_xdp":
            if taken + missed > FRAMES // 100:
                problems.append(f"{taken + missed} frames the XDP program should have passed to the kernel")
            expect = lambda *_: []  # noqa: E731
        elif taken + missed < FRAMES:
            problems.append(f"{FRAMES - taken - missed} frames neither taken in nor counted as missed")
        if fates < taken:
            problems.append(f"{taken - fates} frames taken in without a fate")
        problems += expect(t0, t1, d0["by_reason"], d1["by_reason"], taken)
        took = self.client_ok(name)
        changed = {k: d1["by_reason"][k] - d0["by_reason"][k] for k in d1["by_reason"]
                   if d1["by_reason"][k] != d0["by_reason"][k]}
        self.rows.append((name, rate, taken, missed, changed, took))
        for p in problems:
            self.failures.append(f"{name}: {p}")


def main():
    ap = argparse.ArgumentParser()
    for k in ("ns-cli", "dev", "srv-ip", "cli-ip", "srv-mac", "cli-mac", "stat", "logdir"):
        ap.add_argument("--" + k, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--only", help="run this flood alone")
    ap.add_argument("--client", nargs=argparse.REMAINDER, required=True)
    a = ap.parse_args()
    c = Checker(a)
    if a.only:
        flood = c.flood
        c.flood = lambda name, *rest, **kw: flood(name, *rest, **kw) if name == a.only else None
    srv, smac = ip_bytes(a.srv_ip), mac_bytes(a.srv_mac)  # for the raw ARP frames
    net = ",".join(a.srv_ip.split(".")[:3])

    def nothing(*_):
        return []

    # A warm-up flood first, so the pools and rings are touched before the
    # memory is sampled.
    c.flood("udp-warmup", f"{{ eth(da={a.srv_mac}, sa={a.cli_mac}), ipv4(sa={a.cli_ip}, da={a.srv_ip}, ttl=64), "
            f"udp(sp=40000, dp={a.port}), fill(0x55, 64) }}", nothing)
    rss0 = c.rss_kb()

    # ARP requests for us from 252 neighbours of our subnet (random MACs),
    # then for random addresses from random off-subnet senders, then
    # replies nobody asked for: answered only when for us; the table is
    # bounded; the real neighbour keeps working (the client runs after).
    def arp_for_us(t0, t1, r0, r1, taken):
        out = []
        if t1["arp_received"] - t0["arp_received"] < taken * 0.99:
            out.append("ARP requests not all consumed")
        if t1["arp_replies_sent"] - t0["arp_replies_sent"] > taken:
            out.append("more ARP replies than requests")
        return out
    c.flood("arp-requests-for-us", f"{{ 0xff,0xff,0xff,0xff,0xff,0xff, 0x02,0x00,drnd(4), c16(0x0806), c16(1), "
            f"c16(0x0800), 6, 4, c16(1), 0x02,0x00,drnd(4), {net},dinc(3,254), 0,0,0,0,0,0, {srv} }}", arp_for_us)

    def no_answer(t0, t1, r0, r1, taken):
        if t1["arp_replies_sent"] != t0["arp_replies_sent"]:
            return [f"{t1['arp_replies_sent'] - t0['arp_replies_sent']} ARP replies to requests for others"]
        return []
    c.flood("arp-requests-for-others", f"{{ 0xff,0xff,0xff,0xff,0xff,0xff, 0x02,0x00,drnd(4), c16(0x0806), c16(1), "
            f"c16(0x0800), 6, 4, c16(1), 0x02,0x00,drnd(4), 198,19,drnd(2), 0,0,0,0,0,0, 198,19,drnd(2) }}",
            no_answer, xdp_passes=True)
    c.flood("arp-unsolicited-replies", f"{{ {smac}, 0x02,0x00,drnd(4), c16(0x0806), c16(1), c16(0x0800), 6, 4, "
            f"c16(2), 0x02,0x00,drnd(4), 198,19,drnd(2), {smac}, {srv} }}", no_answer)

    # ICMP echo requests: answered (Linux answers every one), no more.
    def echoes(t0, t1, r0, r1, taken):
        n = t1["icmp_echo_replies"] - t0["icmp_echo_replies"]
        return [] if n <= taken else [f"{n} echo replies to {taken} requests"]
    c.flood("icmp-echo", f"{{ eth(da={a.srv_mac}, sa={a.cli_mac}), ipv4(sa={a.cli_ip}, da={a.srv_ip}, ttl=64), "
            f"icmpv4(echorequest, id=7, seq=dinc()), fill(0x41, 56) }}", echoes)

    # UDP to closed ports: port-unreachable rate-limited, as Linux's.
    def unreach(t0, t1, r0, r1, taken):
        sent = t1["icmp_unreach_sent"] - t0["icmp_unreach_sent"]
        limited = t1["icmp_rate_limited"] - t0["icmp_rate_limited"]
        out = []
        if sent > taken / 10:
            out.append(f"{sent} port-unreachable replies to {taken} datagrams: not rate-limited")
        if limited == 0:
            out.append("nothing counted as rate-limited")
        if r1["udp_no_socket"] - r0["udp_no_socket"] < taken * 0.99:
            out.append("closed-port datagrams not counted under udp_no_socket")
        return out
    c.flood("udp-closed-ports", f"{{ eth(da={a.srv_mac}, sa={a.cli_mac}), ipv4(sa={a.cli_ip}, da={a.srv_ip}, ttl=64), "
            f"udp(sp=40000, dp=dinc(20000, 30000)), fill(0x42, 32) }}", unreach)

    def counted_as(*reasons):
        def check(t0, t1, r0, r1, taken):
            out = []
            n = sum(r1[r] - r0[r] for r in reasons)
            if n < taken * 0.99:
                out.append(f"not counted under {' or '.join(reasons)} ({n} of {taken})")
            if t1["udp_delivered"] - t0["udp_delivered"] > 0:
                out.append("delivered to the application")
            if t1["icmp_unreach_sent"] != t0["icmp_unreach_sent"] or t1["icmp_echo_replies"] != t0["icmp_echo_replies"]:
                out.append("answered")
            return out
        return check
    c.flood("ip-fragments", f"{{ eth(da={a.srv_mac}, sa={a.cli_mac}), ipv4(sa={a.cli_ip}, da={a.srv_ip}, ttl=64, "
            f"mf, id=dinc()), udp(sp=40000, dp={a.port}), fill(0x43, 64) }}", counted_as("ip_fragment"))
    c.flood("udp-bad-checksum", f"{{ eth(da={a.srv_mac}, sa={a.cli_mac}), ipv4(sa={a.cli_ip}, da={a.srv_ip}, ttl=64), "
            f"udp(sp=40000, dp={a.port}, csum=0x1234), fill(0x44, 64) }}", counted_as("udp_checksum"))
    c.flood("ip-bad-checksum", f"{{ eth(da={a.srv_mac}, sa={a.cli_mac}), ipv4(sa={a.cli_ip}, da={a.srv_ip}, ttl=64, "
            f"csum=0x1234), udp(sp=40000, dp={a.port}), fill(0x45, 64) }}", counted_as("ip_checksum"))
    c.flood("ip-truncated", f"{{ eth(da={a.srv_mac}, sa={a.cli_mac}), ipv4(sa={a.cli_ip}, da={a.srv_ip}, ttl=64, "
            f"len=1400), udp(sp=40000, dp={a.port}), fill(0x46, 64) }}", counted_as("ip_malformed"))
    # The UDP header cut off (a frame shorter than its headers; shorter
    # still, without our address in it, the device's filter never passes it
    # up, as a NIC drops runts).
    c.flood("udp-header-cut", f"{{ eth(da={a.srv_mac}, sa={a.cli_mac}), ipv4(sa={a.cli_ip}, da={a.srv_ip}, "
            f"ttl=64, proto=17), 0x00, 0x01 }}", counted_as("ip_malformed", "udp_malformed"), xdp_passes=True)

    # TTL 0 to us: delivered, as Linux does (TTL matters only when forwarding).
    def delivered(t0, t1, r0, r1, taken):
        n = t1["udp_delivered"] - t0["udp_delivered"]
        dropped_full = r1["socket_buffer_full"] - r0["socket_buffer_full"]
        return [] if n + dropped_full >= taken * 0.99 else [f"only {n} delivered, {dropped_full} buffer-full"]
    c.flood("udp-ttl0", f"{{ eth(da={a.srv_mac}, sa={a.cli_mac}), ipv4(sa={a.cli_ip}, da={a.srv_ip}, ttl=0), "
            f"udp(sp=40000, dp={a.port}), fill(0x47, 64) }}", delivered)

    # Far beyond what a python echo server answers: counted as socket
    # buffer full; the server answers the normal client at once after.
    c.flood("udp-echo-flood", f"{{ eth(da={a.srv_mac}, sa={a.cli_mac}), ipv4(sa={a.cli_ip}, da={a.srv_ip}, ttl=64), "
            f"udp(sp=dinc(40000, 40999), dp={a.port}), fill(0x48, 64) }}", delivered)

    if a.only and not c.rows:
        print(f"no flood named {a.only}")
        return 1
    rss1 = c.rss_kb()
    print(f"{'flood':26} {'offered/s':>10} {'taken':>8} {'missed':>7} {'client':>7}  drops by reason")
    for name, rate, taken, missed, changed, took in c.rows:
        print(f"{name:26} {rate:10.0f} {taken:8d} {missed:7d} {took:6.2f}s  {changed}")
    print(f"server RSS: {rss0} kB after the warm-up, {rss1} kB after every flood ({rss1 - rss0:+d} kB)")
    if rss1 - rss0 > 4096:
        c.failures.append(f"memory grew by {rss1 - rss0} kB over the floods")
    for f in c.failures:
        print("FAIL:", f)
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
