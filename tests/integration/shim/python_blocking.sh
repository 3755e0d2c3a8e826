#!/usr/bin/env bash
# Debian's python3 with a plain blocking recvfrom/sendto echo server under
# test, a kernel client; then the reverse: the client (udp_echo_client.py)
# under test against a kernel echo peer.
#   python_blocking.sh BUILD_DIR kernel|shim
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
shim_setup "$1" "$2"
echo "version: $("$PYTHON" --version 2>&1) ($PYTHON)"

PORT=7200
start_under server '^ready' "$PYTHON" "$HERE/py_echo_server.py" $PORT
in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "$IP_SRV" $PORT --count 10000 --max-size 1472 ||
  fail "echo through the python server"
stop_bg server
grep -q "^echoed 10000$" "$LOGDIR/server.log" || fail "server count: $(cat "$LOGDIR/server.log")"
pass "python3 blocking echo server, 10000 datagrams of 1..1472 bytes, $MODE mode"

start_peer 7210
run_under "$PYTHON" "$HERE/../udp_echo_client.py" "$IP_CLI" "$PEER_PORT" --count 10000 --max-size 1472 ||
  fail "echo from the python client"
stop_bg peer
grep -q "^peer: echoed 10000$" "$LOGDIR/peer.log" || fail "peer count: $(cat "$LOGDIR/peer.log")"
pass "python3 blocking echo client, 10000 datagrams of 1..1472 bytes, $MODE mode"
