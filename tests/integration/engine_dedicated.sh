#!/usr/bin/env bash
# The engine over an AF_PACKET backend in dedicated mode (the server's veth
# has no kernel address, so every answer comes from the userspace stack),
# with ordinary kernel programs as the client.
#   engine_dedicated.sh BUILD_DIR BACKEND
set -euo pipefail
BUILD=$1
BACKEND=$2
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"

netns_pair
LOGDIR=$(mktemp -d)
cat >"$LOGDIR/dpdkudp.env" <<CONF
# written by engine_dedicated.sh
DPDKUDP_BACKEND=$BACKEND
DPDKUDP_IFACE=$VETH_SRV
DPDKUDP_IP=$IP_SRV/$PREFIX
DPDKUDP_MODE=dedicated
DPDKUDP_LOG=info
CONF
# DPDK drives the veth through its AF_PACKET PMD; no PCI, no hugepages.
[ "$BACKEND" = dpdk ] && echo "DPDKUDP_EAL_ARGS=--no-pci --vdev=net_af_packet0,iface=$VETH_SRV" >>"$LOGDIR/dpdkudp.env"
PORT=7777
start_server echo '^ready' env DPDKUDP_CONFIG="$LOGDIR/dpdkudp.env" "$BUILD/tests/integration/engine_echo" $PORT
grep -q "backend=$BACKEND " "$LOGDIR/echo.out" || fail "banner does not name backend $BACKEND: $(cat "$LOGDIR/echo.out")"

# ICMP echo answered by the stack (this also resolves ARP both ways).
in_cli ping -c 3 -i 0.2 -W 1 "$IP_SRV" >/dev/null || fail "no reply to ping"
pass "ping answered by the userspace stack"

# The client's kernel learned our MAC through ARP.
in_cli ip neigh show "$IP_SRV" dev "$VETH_CLI" | grep -qi "lladdr $MAC_SRV" ||
  fail "client neighbour table lacks $IP_SRV -> $MAC_SRV: $(in_cli ip neigh show)"
pass "client resolved $IP_SRV to $MAC_SRV"

# 10,000 datagrams of every size 1..1472, each byte checked.
in_cli python3 "$HERE/udp_echo_client.py" "$IP_SRV" $PORT --count 10000 --max-size 1472 || fail "UDP echo"
pass "UDP echo of 10000 datagrams"

# A closed port answers ICMP port unreachable: a connected socket sees ECONNREFUSED.
in_cli python3 - "$IP_SRV" <<'PY' || fail "no port unreachable for a closed port"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((sys.argv[1], 9))
s.send(b"anyone?")
try:
    s.recv(100)
except ConnectionRefusedError:
    sys.exit(0)
except socket.timeout:
    print("timed out without ICMP port unreachable", file=sys.stderr)
sys.exit(1)
PY
pass "port unreachable for a closed port"

stop_server echo
out=$(cat "$LOGDIR/echo.out")
echo "$out" | grep -qi "^neighbor $IP_CLI $MAC_CLI " || fail "the stack did not resolve the client: $out"
pass "the stack resolved $IP_CLI to $MAC_CLI"
echo "$out" | grep -q "^counter echoed 10000$" || fail "server echoed count wrong: $out"
echo "$out" | grep -E "^counter (icmp_echo_replies|icmp_unreach_sent) " >&2
echo "$out" | grep "^drop" >&2 || true
pass "engine over $BACKEND, dedicated mode"
