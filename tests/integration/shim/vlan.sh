#!/usr/bin/env bash
# The three 802.1Q modes against peers nothing of ours wrote. An unmodified
# Python echo server runs under the shim in each mode in turn; the client
# namespace holds hosts on the segment, tagged or not:
#   python3-scapy hosts (vlan_peer.py) ask for the server's MAC, send
#     datagrams and pings on a VID (or untagged) and check every answer's
#     tag (VID and priority, or none), MACs, addresses, checksums, payload;
#     a VID the mode does not accept gets no answer at all;
#   the kernel's own client, untagged, where the mode hears untagged frames
#     (access, a trunk's native VLAN);
#   where the kernel has 802.1Q devices (the 8021q module), a Linux VLAN
#     subinterface is a further peer (detected, not assumed);
#   Wireshark's dissectors (tshark) decode every frame the server sent with
#     its 802.1Q tag and no warning;
#   the rejected frames are counted under vlan_mismatch (dpdkudp-stat --json).
#   vlan.sh BUILD_DIR shim
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
[ "$2" = shim ] || fail "vlan.sh runs in shim mode only (the kernel mode would need the 8021q module on both ends)"
shim_setup "$1" "$2"

cp "$SHIM_CONF" "$LOGDIR/base.env"
PORT=7
NET="198.18.$SUBNET"

CAP="$LOGDIR/vlan.pcap"
ip netns exec "$NS_CLI" tcpdump -i "$VETH_CLI" -U -w "$CAP" "ether src $MAC_SRV" >"$LOGDIR/tcpdump.log" 2>&1 &
TCPDUMP=$!
on_exit "kill -9 $TCPDUMP"
for _ in $(seq 50); do grep -q "listening on" "$LOGDIR/tcpdump.log" && break; sleep 0.1; done

# Linux's 802.1Q subinterface, when the kernel has one.
KERNEL_VLAN=0
if ip -n "$NS_CLI" link add link "$VETH_CLI" name vprobe type vlan id 4000 2>/dev/null; then
  ip -n "$NS_CLI" link del vprobe
  KERNEL_VLAN=1
else
  echo "note: this kernel has no 802.1Q devices (8021q); scapy is the only tagged peer"
fi

mode_start() {  # env lines...
  cp "$LOGDIR/base.env" "$SHIM_CONF"
  printf '%s\n' "$@" >>"$SHIM_CONF"
  start_under echo '^ready' "$PYTHON" "$HERE/py_echo_server.py" $PORT --lifetime 120
}
# vlan_peer.py from the client namespace: peer address, VID or none, the
# tag expected on the answers (a TCI, none, or silent).
peer() {  # peer_ip vid expect [extra...]
  local out
  out=$(ip netns exec "$NS_CLI" "$PYTHON" "$HERE/vlan_peer.py" --iface "$VETH_CLI" --server-mac "$MAC_SRV" \
    --server "$IP_SRV" --peer "$1" --port $PORT --vid "$2" --expect-tci "$3" "${@:4}" 2>&1) ||
    { echo "$out" >&2; fail "peer $1 on VID $2 (expecting $3)"; }
  echo "$out"
}
kernel_client() {  # what
  ip netns exec "$NS_CLI" "$PYTHON" "$HERE/../udp_echo_client.py" "$IP_SRV" $PORT --count 500 --max-size 1472 ||
    fail "kernel client, $1"
  ip netns exec "$NS_CLI" ping -c 3 -i 0.2 -W 2 "$IP_SRV" >"$LOGDIR/ping.log" 2>&1 ||
    { cat "$LOGDIR/ping.log" >&2; fail "kernel ping, $1"; }
}
# The vlan_mismatch count of the running server.
mismatches() {
  "$BUILD/tools/dpdkudp-stat" --json "${BG_PID[echo]}" |
    "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["drops"]["by_reason"]["vlan_mismatch"])'
}
expect_mismatches() {  # at_least what
  local n
  n=$(mismatches) || fail "dpdkudp-stat --json"
  [ "$n" -ge "$1" ] || fail "$2: vlan_mismatch is $n, expected at least $1"
  echo "counted: vlan_mismatch $n"
}

# 1. Port tagging (Linux's eth0.100): tagged 100 with priority 5 both ways;
# untagged and other VIDs unheard.
mode_start "DPDKUDP_VLAN=100" "DPDKUDP_VLAN_PCP=5"
peer "$NET.77" 100 $(((5 << 13) | 100))
peer "$NET.78" none silent
peer "$NET.79" 200 silent
expect_mismatches 6 "port tagging"
if [ $KERNEL_VLAN = 1 ]; then
  ip -n "$NS_CLI" link add link "$VETH_CLI" name "$VETH_CLI.100" type vlan id 100
  on_exit "ip -n $NS_CLI link del $VETH_CLI.100 2>/dev/null"
  ip -n "$NS_CLI" addr flush dev "$VETH_CLI"
  ip -n "$NS_CLI" addr add "$IP_CLI/$PREFIX" dev "$VETH_CLI.100"
  ip -n "$NS_CLI" link set "$VETH_CLI.100" up
  kernel_client "port tagging, Linux's VLAN 100 device"
  ip -n "$NS_CLI" link del "$VETH_CLI.100"
  ip -n "$NS_CLI" addr add "$IP_CLI/$PREFIX" dev "$VETH_CLI"
  echo "ok port tagging: Linux's 802.1Q device echoed 500 datagrams and was answered to ping"
fi
stop_bg echo
pass "port tagging: VID 100 answered tagged with priority 5; untagged and VID 200 unanswered and counted"

# 2. Access: untagged and VID 100 heard, everything sent untagged.
mode_start "DPDKUDP_VLAN=100" "DPDKUDP_VLAN_MODE=access"
peer "$NET.77" 100 none
peer "$NET.78" none none
peer "$NET.79" 200 silent
kernel_client "access mode"
expect_mismatches 3 "access"
stop_bg echo
pass "access: VID 100 and untagged answered untagged, the kernel's client too (500 datagrams, ping); VID 200 unanswered and counted"

# 3. Trunk: its own VID 100, VID 200 allowed, native VLAN 10 (untagged),
# priority 3; each host answered on the VLAN it was heard on. Tags written
# by the stack even where the device could (the same frames either way).
mode_start "DPDKUDP_VLAN=100" "DPDKUDP_VLAN_MODE=trunk" "DPDKUDP_VLAN_ALLOWED=200" "DPDKUDP_VLAN_NATIVE=10" \
  "DPDKUDP_VLAN_PCP=3" "DPDKUDP_VLAN_OFFLOAD=software"
peer "$NET.77" 200 $(((3 << 13) | 200))
peer "$NET.78" none none
peer "$NET.79" 100 $(((3 << 13) | 100))
peer "$NET.80" 300 silent
kernel_client "trunk, native VLAN"
# The hosts on VLANs 200 and 100 again, after the others: their answers
# still go on their own VLANs.
peer "$NET.77" 200 $(((3 << 13) | 200)) --count 5 --ping 1
peer "$NET.79" 100 $(((3 << 13) | 100)) --count 5 --ping 1
expect_mismatches 3 "trunk"
stop_bg echo
pass "trunk: VLANs 200 and 100 answered tagged on their own VID with priority 3, the native VLAN untagged (the kernel's client too), tags written by the stack (DPDKUDP_VLAN_OFFLOAD=software); VID 300 unanswered and counted"

kill -INT $TCPDUMP 2>/dev/null || true
wait $TCPDUMP 2>/dev/null || true

# 4. Wireshark decodes the server's frames, tags included, with no warning.
TSHARK=$(command -v tshark || true)
[ -n "$TSHARK" ] || fail "tshark is missing: run scripts/bootstrap"
count() { "$TSHARK" -r "$CAP" -Y "$1" 2>/dev/null | wc -l; }
for filter in "vlan.id == 100 && vlan.priority == 5" "vlan.id == 200 && vlan.priority == 3" \
  "vlan.id == 100 && vlan.priority == 3" "!vlan && udp" "!vlan && arp"; do
  n=$(count "$filter")
  [ "$n" -gt 0 ] || fail "tshark: no frame from the server matches '$filter'"
done
[ "$(count "vlan.id == 300 || vlan.id == 10")" -eq 0 ] || fail "tshark: the server sent on VLAN 300 or tagged 10"
warn=$("$TSHARK" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -r "$CAP" -Y "_ws.expert.severity >= warning" \
  -T fields -e frame.number -e _ws.expert.message 2>"$LOGDIR/tshark.err") || { cat "$LOGDIR/tshark.err" >&2; fail "tshark -Y"; }
[ -z "$warn" ] || { echo "$warn" | head -20 >&2; fail "tshark flags the server's frames"; }
frames=$(count "frame")
pass "tshark decodes $frames frames from the server, 802.1Q tags as expected, without a warning"
