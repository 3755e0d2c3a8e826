#!/usr/bin/env bash
# dpdkudp-bench under the shim (server side) against the kernel (client side):
# pingpong against its echo, and gen -> sink at a modest paced rate with no
# loss. Checks the tool works both ways round; figures come from scripts/.
#   bench_tool.sh BUILD_DIR
set -euo pipefail
BUILD=$1
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
B="$BUILD/tools/dpdkudp-bench"
SHIM=(env LD_PRELOAD="$BUILD/preload/libdpdkudp.so" DPDKUDP_CONFIG= DPDKUDP_BACKEND=af_packet DPDKUDP_REQUIRE=1)

netns_pair
start_server echo '' "${SHIM[@]}" DPDKUDP_IFACE="$VETH_SRV" DPDKUDP_IP="$IP_SRV/$PREFIX" "$B" echo -p 9000 -d 30 --idle-stop 5
sleep 0.5
out=$(in_cli "$B" pingpong -t "$IP_SRV:9000" -n 2000 -s 64)
echo "$out"
echo "$out" | grep -q "pingpong: count=2000 lost=0" || fail "pingpong: $out"
pass "pingpong through the shim's echo: $out"
kill_server

start_server sink '' "${SHIM[@]}" DPDKUDP_IFACE="$VETH_SRV" DPDKUDP_IP="$IP_SRV/$PREFIX" "$B" sink -p 9001 -d 20 --idle-stop 1
sleep 0.5
in_cli ping -c 1 -W 1 "$IP_SRV" >/dev/null
gen=$(in_cli "$B" gen -t "$IP_SRV:9001" -r 20000 -s 256 -b 8 -d 2)
for _ in $(seq 100); do grep -q "^sink:" "$LOGDIR/sink.out" && break; sleep 0.1; done
sink=$(cat "$LOGDIR/sink.out")
echo "$gen | $sink"
sent=$(echo "$gen" | sed -n 's/.*sent=\([0-9]*\).*/\1/p')
echo "$sink" | grep -q "received=$sent lost=0 " || fail "gen sent $sent, sink says: $sink"
pass "gen -> sink through the shim: $sent datagrams, none lost"
