#!/usr/bin/env bash
# Shared mode: the kernel keeps the interface and its address; the engine
# takes only its own UDP port. The address comes from the interface (no
# DPDKUDP_IP). While it serves port P: the kernel still answers ping and
# serves another UDP port, no other process can bind P, and the kernel
# sends no port-unreachable for P.
#   engine_shared.sh BUILD_DIR BACKEND
set -euo pipefail
BUILD=$1
BACKEND=$2
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"

netns_pair
ip -n "$NS_SRV" addr add "$IP_SRV/$PREFIX" dev "$VETH_SRV"
ip netns exec "$NS_SRV" ethtool -K "$VETH_SRV" tx off >/dev/null
LOGDIR=$(mktemp -d)
cat >"$LOGDIR/dpdkudp.env" <<CONF
DPDKUDP_BACKEND=$BACKEND
DPDKUDP_IFACE=$VETH_SRV
DPDKUDP_MODE=shared
DPDKUDP_LOG=info
CONF
PORT=7777
OTHER=7778
start_server echo '^ready' env DPDKUDP_CONFIG="$LOGDIR/dpdkudp.env" "$BUILD/tests/integration/engine_echo" $PORT
grep -q "ip=$IP_SRV/$PREFIX" "$LOGDIR/echo.out" || fail "address not taken from the interface: $(cat "$LOGDIR/echo.out")"
pass "address $IP_SRV/$PREFIX taken from the interface"

# The port is reserved on the host: nobody else can bind it.
in_srv python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.bind(('$IP_SRV', $PORT))
except OSError as e:
    sys.exit(0 if e.errno == 98 else 1)
sys.exit(1)" || fail "another process could bind port $PORT"
pass "port $PORT reserved on the host"

# A kernel UDP server on another port of the same address keeps working.
in_srv python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$IP_SRV', $OTHER))
s.settimeout(10)
data, peer = s.recvfrom(2048)
s.sendto(b'kernel:' + data, peer)" &
KPID=$!
on_exit "kill -9 $KPID"
sleep 0.3
in_cli python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b'hi', ('$IP_SRV', $OTHER))
sys.exit(0 if s.recvfrom(2048)[0] == b'kernel:hi' else 1)" || fail "kernel UDP on port $OTHER"
wait $KPID || fail "kernel UDP server"
pass "kernel UDP port $OTHER served by the kernel"

# The kernel answers ping (the engine leaves ICMP to it in shared mode).
in_cli ping -c 2 -i 0.2 -W 1 "$IP_SRV" >/dev/null || fail "kernel did not answer ping"
pass "kernel answers ping"

# The engine serves its port; a connected client would see ECONNREFUSED if
# the kernel sent port-unreachable for it.
in_cli python3 "$HERE/udp_echo_client.py" "$IP_SRV" $PORT --count 2000 --max-size 1472 || fail "UDP echo through the engine"
pass "UDP echo of 2000 datagrams through the engine, no ICMP from the kernel"

stop_server echo
grep -q "^counter echoed 2000$" "$LOGDIR/echo.out" || fail "server echoed count wrong: $(cat "$LOGDIR/echo.out")"
pass "engine over $BACKEND, shared mode"
