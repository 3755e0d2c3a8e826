#!/usr/bin/env bash
# Debian's python3 asyncio (DatagramProtocol over epoll) as the program under
# test: the echo server with a kernel asyncio client, then the asyncio client
# against a kernel echo peer.
#   python_asyncio.sh BUILD_DIR kernel|shim
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
shim_setup "$1" "$2"
echo "version: $("$PYTHON" --version 2>&1) ($PYTHON), asyncio"

PORT=7300
start_under server '^ready' "$PYTHON" "$HERE/py_asyncio_echo.py" server $PORT
in_cli "$PYTHON" "$HERE/py_asyncio_echo.py" client "$IP_SRV" $PORT --count 1000 ||
  fail "echo through the asyncio server"
# And a plain blocking client against the same server.
in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "$IP_SRV" $PORT --count 1000 --max-size 1472 ||
  fail "blocking client against the asyncio server"
stop_bg server
grep -q "^echoed 2000$" "$LOGDIR/server.log" || fail "server count: $(cat "$LOGDIR/server.log")"
pass "python3 asyncio echo server, 2 x 1000 datagrams, $MODE mode"

start_peer 7310
run_under "$PYTHON" "$HERE/py_asyncio_echo.py" client "$IP_CLI" "$PEER_PORT" --count 1000 ||
  fail "echo from the asyncio client"
stop_bg peer
grep -q "^peer: echoed 1000$" "$LOGDIR/peer.log" || fail "peer count: $(cat "$LOGDIR/peer.log")"
pass "python3 asyncio echo client, 1000 datagrams, $MODE mode"
