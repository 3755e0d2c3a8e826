#!/usr/bin/env bash
# Datagrams crafted to look like the shim's internal doorbell (issue 16):
# from 127.0.0.1 on the server's own host (the doorbell's source) and from
# a peer on the wire, each with every shape the doorbell has had and
# guessed tokens and keys, to an unmodified echo server under the shim
# while a kernel client keeps it busy. Every crafted datagram must come
# back as the application's data: none swallowed as a doorbell, none
# stealing or delaying the client's. The kernel mode runs the same against
# Linux alone.
#   doorbell_spoof.sh BUILD_DIR kernel|shim   (DPDKUDP_WAIT=thread: doorbells ring all the time)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
shim_setup "$1" "$2"

PORT=7300
start_under server '^ready' "$PYTHON" "$HERE/py_echo_server.py" $PORT
SERVER_PID=$(pgrep -f "py_echo_server.py $PORT" | head -1)
[ -n "$SERVER_PID" ] || fail "no server pid"

# A steady client on the wire meanwhile (in the thread model every datagram
# it sends rings the doorbell).
ip netns exec "$NS_CLI" "$PYTHON" "$HERE/../udp_echo_client.py" "$IP_SRV" $PORT --count 3000 --max-size 512 \
  >"$LOGDIR/client.log" 2>&1 &
CLIENT=$!
on_exit "kill -9 $CLIENT"
in_srv "$PYTHON" "$HERE/doorbell_spoof.py" 127.0.0.1 $PORT "$SERVER_PID" --bind 127.0.0.1 ||
  fail "a local sender's doorbell-shaped datagrams were not all echoed"
pass "doorbell-shaped datagrams from 127.0.0.1 are the application's data ($MODE mode)"
in_cli "$PYTHON" "$HERE/doorbell_spoof.py" "$IP_SRV" $PORT "$SERVER_PID" ||
  fail "a peer's doorbell-shaped datagrams were not all echoed"
pass "doorbell-shaped datagrams from the wire are the application's data ($MODE mode)"
wait "$CLIENT" || fail "the busy client lost datagrams: $(tail -3 "$LOGDIR/client.log")"
grep -q "^echo: 3000 datagrams" "$LOGDIR/client.log" || fail "client: $(cat "$LOGDIR/client.log")"
pass "the client beside them lost nothing"
stop_bg server
