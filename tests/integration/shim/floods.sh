#!/usr/bin/env bash
# Hostile floods (issue 16) from trafgen (netsniff-ng) at an unmodified
# python3 echo server under the shim: ARP from many sources and for many
# targets, ICMP echo, UDP to closed ports, fragments, bad checksums,
# truncated frames, TTL 0, and a UDP flood far beyond what the server
# answers. floods.py checks each against the server's live counters and a
# normal kernel client, and prints what was offered and what held.
#   floods.sh BUILD_DIR shim        (SHIM_BACKEND as the other tests)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
[ "${2:-}" = shim ] || fail "floods.sh runs in shim mode only (it reads the shim's counters)"
shim_setup "$1" "$2"
command -v trafgen >/dev/null || fail "trafgen is missing: run scripts/bootstrap (package netsniff-ng)"

PORT=7500
start_under server '^ready' "$PYTHON" "$HERE/py_echo_server.py" $PORT --lifetime 600
SRV_MAC=$(ip -n "$NS_SRV" -o link show "$VETH_SRV" | sed -E 's/.*link\/ether ([0-9a-f:]+).*/\1/')
CLI_MAC=$(ip -n "$NS_CLI" -o link show "$VETH_CLI" | sed -E 's/.*link\/ether ([0-9a-f:]+).*/\1/')
# The stack's MAC is the veth's (dedicated mode); the kernel client learns it.
in_cli ping -c 1 -W 2 "$IP_SRV" >/dev/null

"$PYTHON" "$HERE/floods.py" --ns-cli "$NS_CLI" --dev "$VETH_CLI" --srv-ip "$IP_SRV" --cli-ip "$IP_CLI" \
  --srv-mac "$SRV_MAC" --cli-mac "$CLI_MAC" --port $PORT --pid "${BG_PID[server]}" \
  --stat "$BUILD/tools/dpdkudp-stat" --logdir "$LOGDIR" \
  --client ip netns exec "$NS_CLI" "$PYTHON" "$HERE/../udp_echo_client.py" "$IP_SRV" $PORT --count 200 \
  --max-size 1472 --timeout 1 || fail "floods (above)"
in_cli ping -c 3 -i 0.2 -W 2 "$IP_SRV" >/dev/null || fail "no ping answer after the floods"
stop_bg server
pass "floods over ${SHIM_BACKEND:-af_packet}: every frame counted, nothing answered that should not be, the server answers at once after each, memory flat"

# The UDP flood once more at an event-loop server (python3 asyncio, epoll).
# (flood_readiness.sh floods poll, epoll and select readers the same way.)
start_under asyncio '^ready' "$PYTHON" "$HERE/py_asyncio_echo.py" server $((PORT + 1))
"$PYTHON" "$HERE/floods.py" --only udp-echo-flood --ns-cli "$NS_CLI" --dev "$VETH_CLI" --srv-ip "$IP_SRV" \
  --cli-ip "$IP_CLI" --srv-mac "$SRV_MAC" --cli-mac "$CLI_MAC" --port $((PORT + 1)) --pid "${BG_PID[asyncio]}" \
  --stat "$BUILD/tools/dpdkudp-stat" --logdir "$LOGDIR" \
  --client ip netns exec "$NS_CLI" "$PYTHON" "$HERE/../udp_echo_client.py" "$IP_SRV" $((PORT + 1)) --count 200 \
  --max-size 1472 --timeout 1 || fail "the UDP flood at the asyncio server (above)"
stop_bg asyncio
pass "an asyncio server flooded far past what it answers answers a normal client at once after"
