#!/usr/bin/env bash
# Debian's socat as the program under test. Server: `socat UDP4-LISTEN:PORT
# PIPE` -- no fork: it peeks at the first datagram (recvfrom MSG_PEEK),
# connects to its sender and echoes through a pipe until 3 s of silence, then
# exits 0 by itself. Client: socat sending a line to a kernel echo peer.
#   socat.sh BUILD_DIR kernel|shim
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
shim_setup "$1" "$2"
echo "version: $(socat -V 2>/dev/null | grep -m1 'socat version')"

PORT=7400
# -d -d logs "listening on", our readiness line; -T 3 ends it after 3 idle seconds.
start_under socat 'listening on' socat -d -d -T 3 UDP4-LISTEN:$PORT PIPE
in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "$IP_SRV" $PORT --count 1000 --max-size 1472 ||
  { cat "$LOGDIR/socat.log" >&2; fail "echo through socat"; }
rc=0
wait_bg socat 10 || rc=$?
[ $rc -eq 0 ] || { cat "$LOGDIR/socat.log" >&2; fail "socat exited with status $rc"; }
pass "socat UDP4-LISTEN PIPE echo, 1000 datagrams of 1..1472 bytes, exit 0 after the idle timeout, $MODE mode"

start_peer 7410
for i in $(seq 10); do
  line="hello socat $i"
  got=$(echo "$line" | run_under timeout 10 socat -t 0.5 -T 3 - UDP4:"$IP_CLI":"$PEER_PORT") ||
    fail "socat client run $i failed"
  [ "$got" = "$line" ] || fail "socat client run $i: sent '$line', got '$got'"
done
stop_bg peer
pass "socat UDP4 client, 10 runs, $MODE mode"
