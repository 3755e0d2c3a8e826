#!/usr/bin/env bash
# The wedge: a reader that reads only when its wait says readable is flooded
# far past its receive buffer, then sent 100 datagrams slowly; it must get
# every one of them (the socket neither goes deaf nor stays asleep with data
# queued). One run per kind of wait: poll, epoll (level), epoll (edge),
# select.
#   flood_readiness.sh BUILD_DIR kernel|shim
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
shim_setup "$1" "$2"

GEN="$BUILD/tools/dpdkudp-bench"
READER="$BUILD/tests/integration/shim/flood_reader"
for prog in "$GEN" "$READER"; do [ -x "$prog" ] || fail "$prog is not built"; done
in_cli ping -c 1 -W 2 "$IP_SRV" >/dev/null 2>&1 || true

port=7400
for wait in poll epoll epollet select; do
  port=$((port + 1))
  start_under "reader_$wait" '^ready' "$READER" $port $wait 100 40
  # The flood: 64-byte datagrams at rates around what the reader keeps up
  # with (its queue empties and fills again all the time: the edges a lost
  # wake-up hides in), then as fast as the kernel sends; 1 s each.
  for rate in 50000 100000 200000 400000 0; do
    in_cli "$GEN" gen -t "$IP_SRV:$port" -r $rate -s 64 -b 32 -d 1 >>"$LOGDIR/gen_$wait.log" 2>&1 ||
      fail "generator: $(cat "$LOGDIR/gen_$wait.log")"
  done
  sleep 0.5
  # Then 100 datagrams, 5 ms apart.
  in_cli "$PYTHON" - "$IP_SRV" $port <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(100):
    s.sendto(b"late %d" % i, (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.005)
PY
  rc=0
  wait_bg "reader_$wait" 45 || rc=$?
  line=$(grep '^reader:' "$LOGDIR/reader_$wait.log" || true)
  echo "$wait: $(grep -c '^gen:' "$LOGDIR/gen_$wait.log") floods / $line"
  [ $rc -eq 0 ] || { cat "$LOGDIR/reader_$wait.log" >&2; fail "$wait: the reader went deaf after the flood ($line)"; }
  pass "$wait: flooded reader drained and received all 100 late datagrams, $MODE mode"
done
