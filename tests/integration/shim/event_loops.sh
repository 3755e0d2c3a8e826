#!/usr/bin/env bash
# Real event loops as the program under test: libuv (Node.js's loop),
# libevent and Boost.Asio (loop_*.cc, ordinary programs linking no project
# library). For each: its echo server with kernel clients in the other
# namespace (its own client and the blocking Python one), then its client
# against a kernel echo peer. Node.js's dgram too when node is installed.
# A loop whose development package was missing at build time is reported
# as SKIP (scripts/bootstrap installs them all).
#   event_loops.sh BUILD_DIR kernel|shim
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
shim_setup "$1" "$2"

skip() { echo "SKIP: $*"; }

# loop NAME PORT [server options...]: the server under test with kernel
# clients, then (without options) the client under test against the kernel
# peer on PORT+10.
loop() {
  local name=$1 port=$2
  shift 2
  local bin="$BUILD/tests/integration/shim/loop_$name"
  if [ ! -x "$bin" ]; then
    skip "$name: $bin is not built (its development package was missing at configure time)"
    return 0
  fi
  local what="$name${1:+ $*}"

  start_under "srv_$name" '^ready' "$bin" server "$port" "$@"
  echo "server: $(head -n 1 "$LOGDIR/srv_$name.log")"
  in_cli "$bin" client "$IP_SRV" "$port" --count 1000 --window 8 ||
    fail "$what server: echo to its kernel client (window of 8)"
  in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "$IP_SRV" "$port" --count 500 --max-size 1472 ||
    fail "$what server: echo to the blocking Python client"
  stop_bg "srv_$name"
  grep -q "^echoed 1500$" "$LOGDIR/srv_$name.log" || fail "$what server count: $(cat "$LOGDIR/srv_$name.log")"
  pass "$what echo server, 1500 datagrams of 4..1472 bytes, $MODE mode"

  [ $# -eq 0 ] || return 0  # server options change only the server
  start_peer $((port + 10))
  run_under "$bin" client "$IP_CLI" "$PEER_PORT" --count 1000 --window 4 ||
    fail "$what client against the kernel echo peer"
  stop_bg peer
  grep -q "^peer: echoed 1000$" "$LOGDIR/peer.log" || fail "peer count: $(cat "$LOGDIR/peer.log")"
  pass "$what echo client, 1000 datagrams checked, $MODE mode"
}

# ARP both ways first, so the first window is not spent resolving.
in_cli ping -c 1 -W 2 "$IP_SRV" >/dev/null 2>&1 || true

loop libuv 7400
loop libuv 7420 --mmsg
loop libevent 7440
loop asio 7460

# Node.js (its own libuv, epoll underneath): optional, never a PASS without node.
NODE=$(command -v node || true)
if [ -z "$NODE" ]; then
  skip "node.js dgram: node is not installed"
else
  start_under srv_node '^ready' "$NODE" "$HERE/node_dgram_echo.js" server 7480
  echo "server: $(head -n 1 "$LOGDIR/srv_node.log")"
  in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "$IP_SRV" 7480 --count 1000 --max-size 1472 ||
    fail "node.js dgram server: echo to the blocking Python client"
  stop_bg srv_node
  grep -q "^echoed 1000$" "$LOGDIR/srv_node.log" || fail "node server count: $(cat "$LOGDIR/srv_node.log")"
  pass "node.js dgram echo server, 1000 datagrams, $MODE mode"

  start_peer 7490
  run_under "$NODE" "$HERE/node_dgram_echo.js" client "$IP_CLI" "$PEER_PORT" 1000 ||
    fail "node.js dgram client against the kernel echo peer"
  stop_bg peer
  grep -q "^peer: echoed 1000$" "$LOGDIR/peer.log" || fail "peer count: $(cat "$LOGDIR/peer.log")"
  pass "node.js dgram echo client, 1000 datagrams, $MODE mode"
fi
