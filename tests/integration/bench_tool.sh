#!/usr/bin/env bash
# dpdkudp-bench under the shim (server side) against the kernel (client side):
# pingpong against its echo (and its --samples file against its p50), and
# gen -> sink at a modest paced rate with no loss. Checks the tool works both
# ways round; figures come from scripts/.
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
out=$(in_cli "$B" pingpong -t "$IP_SRV:9000" -n 2000 -s 64 --samples "$LOGDIR/rtt.txt")
echo "$out"
echo "$out" | grep -q "pingpong: count=2000 lost=0" || fail "pingpong: $out"
pass "pingpong through the shim's echo: $out"
# --samples: one round-trip time (µs) a line, one per round trip, all
# positive numbers; pingpong's p50 is the sorted array's element
# floor(n/2) (0-based), printed with one decimal: the same element of the
# file, sorted, must round to it.
lines=$(wc -l <"$LOGDIR/rtt.txt")
[ "$lines" -eq 2000 ] || fail "--samples wrote $lines lines for -n 2000"
bad=$(grep -cvE '^[0-9]+(\.[0-9]+)?$' "$LOGDIR/rtt.txt" || true)
[ "$bad" -eq 0 ] || fail "--samples: $bad lines are not numbers: $(grep -vE '^[0-9]+(\.[0-9]+)?$' "$LOGDIR/rtt.txt" | head -3)"
awk '$1 <= 0 { exit 1 }' "$LOGDIR/rtt.txt" || fail "--samples: a round trip of 0 µs or less"
median=$(sort -g "$LOGDIR/rtt.txt" | sed -n "$((lines / 2 + 1))p")
p50=$(echo "$out" | sed -n 's/.* p50_us=\([0-9.]*\) .*/\1/p')
awk -v m="$median" -v p="$p50" 'BEGIN { d = m - p; if (d < 0) d = -d; exit !(p != "" && d <= 0.05 + 1e-9) }' ||
  fail "--samples: the file's median $median µs is not pingpong's p50 $p50 µs"
pass "pingpong --samples: 2000 positive round-trip times, median $median µs (printed p50 $p50)"
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
