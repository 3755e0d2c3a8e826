#!/usr/bin/env bash
# IPv4 multicast through the socket API (mcast_peer.py), the program under
# the shim in dedicated mode, Linux's own answers in kernel mode:
#  1. misuse of the membership options gets Linux's errno (the same JSON
#     in both modes) and IP_MULTICAST_TTL/LOOP/ALL read back;
#  2. a receiver with an any-source, a source-specific and a
#     wrong-source membership on one port, and a socket with
#     IP_MULTICAST_ALL off: a kernel sender's group traffic reaches the
#     first two, each with its own copy, and neither of the others; after
#     the leave, nothing;
#  3. the IGMP on the wire, decoded by Wireshark's dissector (tshark): a
#     version 3 report that joins the group (CHANGE_TO_EXCLUDE {}), and the
#     leave at the end;
#  4. a sender under the shim reaches two kernel receivers in the peer
#     namespace, every datagram, with IP_MULTICAST_IF read back, and a
#     kernel receiver on its own host through IP_MULTICAST_LOOP (none with
#     the loop off).
# Groups are organisation-local (239.198.18.0/24, RFC 2365) and every
# datagram has TTL 1: nothing leaves the test's two namespaces.
#   multicast.sh BUILD_DIR kernel|shim   (SHIM_BACKEND=af_packet|af_packet_mmap|af_xdp|dpdk)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
shim_setup "$1" "$2"
PEER="$HERE/mcast_peer.py"
G=239.198.18.1
G2=239.198.18.2
P=9400
OTHER_SOURCE=198.18.255.77
TSHARK=$(command -v tshark || true)
[ -n "$TSHARK" ] || fail "tshark is missing: run scripts/bootstrap"
# The client namespace routes groups out of its veth (the kernel sender
# and receivers name the interface by address; the route is for Linux's
# own IGMP in kernel mode).
ip -n "$NS_CLI" route add 224.0.0.0/4 dev "$VETH_CLI"
[ "$MODE" = shim ] || ip -n "$NS_SRV" route add 224.0.0.0/4 dev "$VETH_SRV"

# 1. Linux's errors.
json=$(run_under "$PYTHON" "$PEER" errnos $G "$VETH_SRV") || fail "errnos: $json"
want='{"not_a_group": "EINVAL", "short": "EINVAL", "join": 0, "join_again": "EADDRINUSE", "drop_unjoined": "EADDRNOTAVAIL", "source_len": "EINVAL", "drop": 0, "drop_again": "EADDRNOTAVAIL", "ttl": "EINVAL", "ttl_read": 7, "loop_read": 1, "all_read": 1}'
[ "$json" = "$want" ] || fail "membership errors: got $json, Linux gives $want"
pass "membership misuse gets Linux's errno; IP_MULTICAST_TTL/LOOP/ALL read back"

# 2 and 3. A receiver, a kernel sender, and the IGMP on the wire.
CAP="$LOGDIR/igmp.pcap"
ip netns exec "$NS_CLI" tcpdump -i "$VETH_CLI" -U -w "$CAP" igmp >"$LOGDIR/tcpdump.log" 2>&1 &
TCPDUMP=$!
on_exit "kill $TCPDUMP 2>/dev/null"
for _ in $(seq 50); do grep -q "listening on" "$LOGDIR/tcpdump.log" && break; sleep 0.1; done
start_under recv '^joined' "$PYTHON" "$PEER" recv $G $P "$VETH_SRV" "$IP_SRV" "$IP_CLI" $OTHER_SOURCE
start_cli sender '^ready' "$PYTHON" "$PEER" stream $G $P "$IP_CLI" 6
wait_bg recv 15 || fail "the receiver failed: $(cat "$LOGDIR/recv.log")"
json=$(tail -n 1 "$LOGDIR/recv.log")
"$PYTHON" - "$json" <<'PY' || fail "group traffic: $json"
import json, sys
d = json.loads(sys.argv[1])
b, a = d["before"], d["after"]
assert b["any"] >= 20 and b["ssm"] >= 15, d      # each member its own copy
assert b["other"] == 0 and b["quiet"] == 0, d    # wrong source; IP_MULTICAST_ALL off
assert sum(a.values()) == 0, d                   # nothing after the leave
PY
pass "a kernel sender's group traffic: any-source and source-specific members each get it, a wrong-source member and an IP_MULTICAST_ALL=0 socket none, nothing after the leave ($json)"
sleep 0.3
kill "$TCPDUMP" 2>/dev/null || true
wait "$TCPDUMP" 2>/dev/null || true
records=$("$TSHARK" -r "$CAP" -Y "igmp.version == 3 && ip.src == $IP_SRV" -T fields -e igmp.record_type -e igmp.maddr \
  -e igmp.saddr 2>/dev/null) || fail "tshark -r $CAP failed"
echo "$records" | grep -qE "^4	$G	?$" || fail "no IGMPv3 join (CHANGE_TO_EXCLUDE {}) for $G from $IP_SRV in: $records"
# The leave: the last record for the group takes it back to INCLUDE {}
# (Linux blocks the remaining sources, type 6; a CHANGE_TO_INCLUDE, type 3,
# says the same).
echo "$records" | tail -n 1 | grep -qE "^(3|6)	$G" || fail "no IGMPv3 leave for $G at the end of: $records"
malformed=$("$TSHARK" -r "$CAP" -Y "_ws.malformed || _ws.expert.severity >= warning" 2>/dev/null | head -5)
[ -z "$malformed" ] || fail "tshark flags the IGMP: $malformed"
pass "IGMPv3 on the wire (tshark): the join (CHANGE_TO_EXCLUDE {}) and the leave, no warnings: $(echo "$records" | tr '\t\n' ' ;')"

# 4. A sender under the shim, two kernel receivers in the peer namespace
# and one on the sender's own host (a kernel socket joined on the same
# interface, by its index: in shim mode it has no address): IP_MULTICAST_LOOP
# reaches it, and the loop copy never reaches the wire (the peers count
# exactly 100, not a copy more).
start_cli r1 '^joined' "$PYTHON" "$PEER" count $G2 $P "$IP_CLI" 3
start_cli r2 '^joined' "$PYTHON" "$PEER" count $G2 $P "$IP_CLI" 3
_start_bg "$NS_SRV" r3 '^joined' "$PYTHON" "$PEER" count $G2 $P "$VETH_SRV" 3
json=$(run_under "$PYTHON" "$PEER" send $G2 $P "$IP_SRV" 100) || fail "send: $json"
wait_bg r1 10 || fail "receiver 1: $(cat "$LOGDIR/r1.log")"
wait_bg r2 10 || fail "receiver 2: $(cat "$LOGDIR/r2.log")"
wait_bg r3 10 || fail "receiver 3: $(cat "$LOGDIR/r3.log")"
n1=$(tail -n 1 "$LOGDIR/r1.log")
n2=$(tail -n 1 "$LOGDIR/r2.log")
n3=$(tail -n 1 "$LOGDIR/r3.log")
[ "$n1" = 100 ] && [ "$n2" = 100 ] || fail "kernel receivers got $n1 and $n2 of 100"
[ "$n3" = 100 ] || fail "the kernel receiver on the sender's host got $n3 of 100 (IP_MULTICAST_LOOP)"
echo "$json" | grep -q "\"multicast_if\": \"$IP_SRV\"" || fail "IP_MULTICAST_IF read back: $json"
pass "a sender's 100 datagrams to $G2 reach both kernel receivers ($n1, $n2) and, looped, the kernel receiver on its host ($n3); IP_MULTICAST_IF reads back $IP_SRV"

# With IP_MULTICAST_LOOP off the host's receiver gets none; the peer's all.
start_cli r4 '^joined' "$PYTHON" "$PEER" count $G2 $P "$IP_CLI" 3
_start_bg "$NS_SRV" r5 '^joined' "$PYTHON" "$PEER" count $G2 $P "$VETH_SRV" 3
json=$(run_under "$PYTHON" "$PEER" send $G2 $P "$IP_SRV" 50 noloop) || fail "send without loop: $json"
wait_bg r4 10 || fail "receiver 4: $(cat "$LOGDIR/r4.log")"
wait_bg r5 10 || fail "receiver 5: $(cat "$LOGDIR/r5.log")"
n4=$(tail -n 1 "$LOGDIR/r4.log")
n5=$(tail -n 1 "$LOGDIR/r5.log")
[ "$n4" = 50 ] && [ "$n5" = 0 ] || fail "IP_MULTICAST_LOOP=0: the peer got $n4 of 50 (want 50), the host's receiver $n5 (want 0)"
pass "IP_MULTICAST_LOOP=0: the peer's receiver gets all 50, the host's none"

# 5. Several processes on the host in one group, as Linux: each gets its own
# copy of every datagram from the wire (AF_XDP's program can hand a frame to
# one process only: that one passes copies to the others), and a sender on
# the host reaches the other processes' members through IP_MULTICAST_LOOP
# (under the shim: the other processes' stacks), none with the loop off.
# The receivers share the port with SO_REUSEADDR alone, as multicast
# receivers usually do (multicast6.sh's with SO_REUSEPORT).
G3=239.198.18.3
# AF_XDP serves a dedicated address from one process: several share the
# interface in shared mode, the kernel keeping the address (as reuseport.sh).
if [ "$MODE" = shim ] && [ "${SHIM_BACKEND:-af_packet}" = af_xdp ]; then
  ip -n "$NS_SRV" addr add "$IP_SRV/$PREFIX" dev "$VETH_SRV"
  in_srv ethtool -K "$VETH_SRV" tx off >/dev/null
  sed -i 's/^DPDKUDP_MODE=dedicated$/DPDKUDP_MODE=shared/' "$SHIM_CONF"
fi
start_under m1 '^joined' "$PYTHON" "$PEER" count $G3 $P "$IP_SRV" 5
start_under m2 '^joined' "$PYTHON" "$PEER" count $G3 $P "$IP_SRV" 5
start_cli k1 '^joined' "$PYTHON" "$PEER" count $G3 $P "$IP_CLI" 5
json=$(ip netns exec "$NS_CLI" "$PYTHON" "$PEER" send $G3 $P "$IP_CLI" 60) || fail "kernel send: $json"
json=$(run_under "$PYTHON" "$PEER" send $G3 $P "$IP_SRV" 40) || fail "send on the host: $json"
for r in m1 m2 k1; do wait_bg $r 10 || fail "receiver $r: $(cat "$LOGDIR/$r.log")"; done
n1=$(tail -n 1 "$LOGDIR/m1.log")
n2=$(tail -n 1 "$LOGDIR/m2.log")
nk=$(tail -n 1 "$LOGDIR/k1.log")
[ "$n1" = 100 ] && [ "$n2" = 100 ] ||
  fail "two processes in $G3 got $n1 and $n2 of 100 (60 from the wire, 40 looped from a third process on their host)"
# (the peer's kernel receiver hears its own 60 through Linux's loop, and the 40)
[ "$nk" = 100 ] || fail "the peer's receiver got $nk of 100"
pass "two processes in $G3 on one host each get all 60 of a kernel sender's datagrams and all 40 of a third process's on their host ($n1, $n2)"
start_under m3 '^joined' "$PYTHON" "$PEER" count $G3 $P "$IP_SRV" 5
json=$(run_under "$PYTHON" "$PEER" send $G3 $P "$IP_SRV" 30 noloop) || fail "send without loop: $json"
wait_bg m3 10 || fail "receiver m3: $(cat "$LOGDIR/m3.log")"
n3=$(tail -n 1 "$LOGDIR/m3.log")
[ "$n3" = 0 ] || fail "IP_MULTICAST_LOOP=0: another process on the sender's host got $n3 of 30"
pass "IP_MULTICAST_LOOP=0: another process on the sender's host gets none"
