#!/usr/bin/env bash
# IPv6 multicast through the socket API (mcast6_peer.py), the program under
# the shim in dedicated mode (the server veth's kernel IPv6 disabled, as in
# ipv6.sh), Linux's own answers in kernel mode:
#  1. misuse of the membership options gets Linux's errno (the same JSON
#     in both modes) and IPV6_MULTICAST_IF/HOPS/LOOP/ALL read back;
#  2. a receiver with an any-source, a source-specific and a
#     wrong-source membership on one port, and a socket with
#     IPV6_MULTICAST_ALL off: a kernel sender's group traffic reaches the
#     first two, each with its own copy, and neither of the others; after
#     the leave, nothing;
#  3. the MLD on the wire, decoded by Wireshark's dissector (tshark): a
#     version 2 report from the server's link-local address that joins the
#     group (CHANGE_TO_EXCLUDE {}), and the leave at the end;
#  4. a sender under the shim (IPV6_MULTICAST_IF, no scope id) reaches two
#     kernel receivers in the peer namespace, every datagram;
#  5. IPV6_MULTICAST_LOOP reaches a kernel receiver on the sender's host;
#  6. two processes in one group on the host each get every datagram, from
#     the wire and, looped, from a third process on their host.
# Groups are RFC 3306 unicast-prefix-based under 2001:2::/48 with link
# scope (ff32:30:2001:2::/96, never forwarded) and every datagram has hop
# limit 1: nothing leaves the test's two namespaces.
#   multicast6.sh BUILD_DIR kernel|shim   (SHIM_BACKEND=af_packet|af_packet_mmap|af_xdp|dpdk)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
shim_setup "$1" "$2"
PEER="$HERE/mcast6_peer.py"
G=ff32:30:2001:2::1
G2=ff32:30:2001:2::2
P=9410
IP6_SRV="2001:2:0:$SUBNET::2"
IP6_CLI="2001:2:0:$SUBNET::1"
OTHER_SOURCE="2001:2:0:$SUBNET::77"
TSHARK=$(command -v tshark || true)
[ -n "$TSHARK" ] || fail "tshark is missing: run scripts/bootstrap"

in_cli ip -6 addr add "$IP6_CLI/64" dev "$VETH_CLI" nodad
if [ "$MODE" = kernel ]; then
  in_srv ip -6 addr add "$IP6_SRV/64" dev "$VETH_SRV" nodad
  # Linux sends MLD from :: until its link-local address has passed DAD
  # (RFC 3810 5.2.13): wait for it.
  for _ in $(seq 50); do
    in_srv ip -6 addr show dev "$VETH_SRV" scope link | grep -q tentative || break
    sleep 0.1
  done
else
  in_srv sysctl -qw "net.ipv6.conf.$VETH_SRV.disable_ipv6=1"
  echo "DPDKUDP_IP6=$IP6_SRV/64" >>"$SHIM_CONF"
fi
# Both modes: the link-local address from the MAC (RFC 4291 appendix A),
# the kernel's default (addr_gen_mode eui64) and the stack's.
LL_SRV=$("$PYTHON" -c '
import ipaddress, sys
b = bytes.fromhex(sys.argv[1].replace(":", ""))
eui = bytes([b[0] ^ 2]) + b[1:3] + b"\xff\xfe" + b[3:]
print(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + eui))' "$MAC_SRV")
echo "ipv6: srv=$IP6_SRV ($LL_SRV) cli=$IP6_CLI"

# 1. Linux's errors.
json=$(run_under "$PYTHON" "$PEER" errnos $G "$VETH_SRV" "$IP6_CLI") || fail "errnos: $json"
want='{"not_a_group": "EINVAL", "short": "EINVAL", "join": 0, "join_again": "EADDRINUSE", "drop_unjoined": "EADDRNOTAVAIL", "group_family": "EADDRNOTAVAIL", "source_len": "EINVAL", "drop": 0, "drop_again": "EADDRNOTAVAIL", "block_unjoined": "EINVAL", "source_join": 0, "source_join_again": "EADDRNOTAVAIL", "any_over_source": "EADDRINUSE", "block_on_include": "EINVAL", "source_leave": 0, "source_leave_again": "EINVAL", "if_unknown": "ENODEV", "if": 0, "if_read": "iface", "hops": "EINVAL", "hops_read": 7, "hops_default": 1, "loop": "EINVAL", "loop_read": 0, "all_read": 1, "on_inet": "ENOPROTOOPT"}'
[ "$json" = "$want" ] || fail "membership errors: got $json, Linux gives $want"
pass "membership misuse gets Linux's errno; IPV6_MULTICAST_IF/HOPS/LOOP/ALL read back"

# 2 and 3. A receiver, a kernel sender, and the MLD on the wire (ICMPv6
# behind the Hop-by-Hop header: protochain).
CAP="$LOGDIR/mld.pcap"
in_cli tcpdump -i "$VETH_CLI" -U -w "$CAP" ip6 protochain 58 >"$LOGDIR/tcpdump.log" 2>&1 &
TCPDUMP=$!
on_exit "kill $TCPDUMP 2>/dev/null"
for _ in $(seq 50); do grep -q "listening on" "$LOGDIR/tcpdump.log" && break; sleep 0.1; done
start_under recv '^joined' "$PYTHON" "$PEER" recv $G $P "$VETH_SRV" "$IP6_CLI" "$OTHER_SOURCE"
start_cli sender '^ready' "$PYTHON" "$PEER" stream $G $P "$VETH_CLI" "$IP6_CLI" 6
wait_bg recv 15 || fail "the receiver failed: $(cat "$LOGDIR/recv.log")"
json=$(tail -n 1 "$LOGDIR/recv.log")
"$PYTHON" - "$json" <<'PY' || fail "group traffic: $json"
import json, sys
d = json.loads(sys.argv[1])
b, a = d["before"], d["after"]
assert b["any"] >= 20 and b["ssm"] >= 15, d      # each member its own copy
assert b["other"] == 0 and b["quiet"] == 0, d    # wrong source; IPV6_MULTICAST_ALL off
assert sum(a.values()) == 0, d                   # nothing after the leave
PY
pass "a kernel sender's group traffic: any-source and source-specific members each get it, a wrong-source member and an IPV6_MULTICAST_ALL=0 socket none, nothing after the leave ($json)"
sleep 0.3
kill "$TCPDUMP" 2>/dev/null || true
wait "$TCPDUMP" 2>/dev/null || true
# One line per MLDv2 report from the server's link-local address; several
# records in one report are comma-separated, flattened to "type group".
records=$("$TSHARK" -r "$CAP" -Y "icmpv6.type == 143 && ipv6.src == $LL_SRV" -T fields \
  -e icmpv6.mldr.mar.record_type -e icmpv6.mldr.mar.multicast_address 2>/dev/null |
  "$PYTHON" -c '
import ipaddress, sys
for line in sys.stdin:
    types, groups = (line.rstrip("\n").split("\t") + [""])[:2]
    for t, g in zip(types.split(","), groups.split(",")):
        print(t, ipaddress.IPv6Address(g))') || fail "tshark -r $CAP failed"
G_NORM=$("$PYTHON" -c 'import ipaddress, sys; print(ipaddress.IPv6Address(sys.argv[1]))' $G)
mine=$(echo "$records" | grep " $G_NORM\$" || true)
echo "$mine" | grep -qx "4 $G_NORM" || fail "no MLDv2 join (CHANGE_TO_EXCLUDE {}) for $G from $LL_SRV in: $records"
# The leave: the last record for the group takes it back to INCLUDE {}
# (Linux blocks the remaining sources, type 6; a CHANGE_TO_INCLUDE, type 3,
# says the same).
echo "$mine" | tail -n 1 | grep -qE "^(3|6) " || fail "no MLDv2 leave for $G at the end of: $records"
malformed=$("$TSHARK" -r "$CAP" -Y "_ws.malformed || _ws.expert.severity >= warning" 2>/dev/null | head -5)
[ -z "$malformed" ] || fail "tshark flags the MLD: $malformed"
pass "MLDv2 on the wire (tshark) from $LL_SRV: the join (CHANGE_TO_EXCLUDE {}) and the leave, no warnings: $(echo "$mine" | tr '\n' ';')"

# 4. A sender under the shim, two kernel receivers.
start_cli r1 '^joined' "$PYTHON" "$PEER" count $G2 $P "$VETH_CLI" 3
start_cli r2 '^joined' "$PYTHON" "$PEER" count $G2 $P "$VETH_CLI" 3
json=$(run_under "$PYTHON" "$PEER" send $G2 $P "$VETH_SRV" 100) || fail "send: $json"
wait_bg r1 10 || fail "receiver 1: $(cat "$LOGDIR/r1.log")"
wait_bg r2 10 || fail "receiver 2: $(cat "$LOGDIR/r2.log")"
n1=$(tail -n 1 "$LOGDIR/r1.log")
n2=$(tail -n 1 "$LOGDIR/r2.log")
[ "$n1" = 100 ] && [ "$n2" = 100 ] || fail "kernel receivers got $n1 and $n2 of 100"
echo "$json" | grep -q '"multicast_if": "iface"' || fail "IPV6_MULTICAST_IF read back: $json"
pass "a sender's 100 datagrams to $G2 reach both kernel receivers ($n1, $n2), IPV6_MULTICAST_IF reads back $VETH_SRV's index"

# 5. IPV6_MULTICAST_LOOP to a kernel receiver on the sender's own host,
# joined on the same interface. The kernel needs IPv6 on that interface to
# join, so under the shim this step runs in shared mode (the kernel keeps
# its addresses, the stack takes them and its UDP ports).
G3=ff32:30:2001:2::3
if [ "$MODE" = shim ]; then
  in_srv sysctl -qw "net.ipv6.conf.$VETH_SRV.disable_ipv6=0"
  ip -n "$NS_SRV" addr add "$IP_SRV/$PREFIX" dev "$VETH_SRV"
  in_srv ip -6 addr add "$IP6_SRV/64" dev "$VETH_SRV" nodad
  for _ in $(seq 50); do
    in_srv ip -6 addr show dev "$VETH_SRV" scope link | grep -q tentative || break
    sleep 0.1
  done
  sed -e 's/^DPDKUDP_MODE=.*/DPDKUDP_MODE=shared/' -e '/^DPDKUDP_IP=/d' -e '/^DPDKUDP_IP6=/d' "$SHIM_CONF" >"$LOGDIR/shared.env"
  SENDER=(env DPDKUDP_CONFIG="$LOGDIR/shared.env")
else
  SENDER=()
fi
start_cli r6 '^joined' "$PYTHON" "$PEER" count $G3 $P "$VETH_CLI" 3
_start_bg "$NS_SRV" r7 '^joined' "$PYTHON" "$PEER" count $G3 $P "$VETH_SRV" 3
json=$(run_under "${SENDER[@]}" "$PYTHON" "$PEER" send $G3 $P "$VETH_SRV" 50) || fail "send to $G3: $json"
wait_bg r6 10 || fail "receiver 6: $(cat "$LOGDIR/r6.log")"
wait_bg r7 10 || fail "receiver 7: $(cat "$LOGDIR/r7.log")"
n6=$(tail -n 1 "$LOGDIR/r6.log")
n7=$(tail -n 1 "$LOGDIR/r7.log")
[ "$n6" = 50 ] && [ "$n7" = 50 ] || fail "to $G3: the peer's receiver got $n6 and the host's $n7 of 50 (IPV6_MULTICAST_LOOP)"
pass "a sender's 50 datagrams to $G3 reach the peer's receiver ($n6) and, looped, the kernel receiver on its host ($n7)"

# 6. Two processes in one group on the host (sharing the port with
# SO_REUSEPORT), as Linux: each gets every datagram of a kernel sender on
# the wire (on AF_XDP the program hands it to one, which passes a copy to
# the other) and, through IPV6_MULTICAST_LOOP, of a third process on their
# host. Still in step 5's shared mode under the shim.
G4=ff32:30:2001:2::4
start_under m1 '^joined' "${SENDER[@]}" "$PYTHON" "$PEER" count $G4 $P "$VETH_SRV" 5 reuseport
start_under m2 '^joined' "${SENDER[@]}" "$PYTHON" "$PEER" count $G4 $P "$VETH_SRV" 5 reuseport
json=$(in_cli "$PYTHON" "$PEER" send $G4 $P "$VETH_CLI" 60) || fail "kernel send to $G4: $json"
json=$(run_under "${SENDER[@]}" "$PYTHON" "$PEER" send $G4 $P "$VETH_SRV" 40) || fail "send on the host to $G4: $json"
wait_bg m1 10 || fail "receiver m1: $(cat "$LOGDIR/m1.log")"
wait_bg m2 10 || fail "receiver m2: $(cat "$LOGDIR/m2.log")"
n1=$(tail -n 1 "$LOGDIR/m1.log")
n2=$(tail -n 1 "$LOGDIR/m2.log")
[ "$n1" = 100 ] && [ "$n2" = 100 ] ||
  fail "two processes in $G4 got $n1 and $n2 of 100 (60 from the wire, 40 looped from a third process on their host)"
pass "two processes in $G4 on one host each get all 60 of a kernel sender's datagrams and all 40 of a third process's ($n1, $n2)"
