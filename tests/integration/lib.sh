# Shared harness for integration tests: two network namespaces joined by a
# veth pair, addresses in 198.18.0.0/15 only, always removed on exit.
#
#   source lib.sh
#   netns_pair            # creates $NS_SRV/$NS_CLI, $VETH_SRV/$VETH_CLI,
#                         # $IP_SRV/$IP_CLI (198.18.$SUBNET.2 / .1), $PREFIX
#   in_srv cmd...; in_cli cmd...
#
# Names carry the pid, so tests can run in parallel. Every loop a test
# writes must be bounded in count and time.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Leaves a note of what ran; cleanup removes everything we made.
_CLEANUP=()
cleanup() {
  local rc=$?
  set +e
  for ((i = ${#_CLEANUP[@]} - 1; i >= 0; i--)); do eval "${_CLEANUP[$i]}" >/dev/null 2>&1; done
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
on_exit() { _CLEANUP+=("$*"); }

require_root_and_netns() {
  [ "$(id -u)" -eq 0 ] || fail "integration tests need root (network namespaces, veth, raw sockets); run as root"
  command -v ip >/dev/null || fail "iproute2 'ip' is missing: run scripts/bootstrap"
  local probe="dpdkudp-probe-$$"
  ip netns add "$probe" 2>/dev/null || fail "cannot create a network namespace (ip netns add): are we in a container without CAP_SYS_ADMIN?"
  ip netns del "$probe"
}

netns_pair() {
  require_root_and_netns
  local id="$$"
  SUBNET=$((id % 250 + 1))  # 198.18.<1..250>.0/24, distinct for concurrent tests
  NS_SRV="dpdkudp-srv-$id"
  NS_CLI="dpdkudp-cli-$id"
  VETH_SRV="dus$id"
  VETH_CLI="duc$id"
  VETH_SRV=${VETH_SRV:0:15}
  VETH_CLI=${VETH_CLI:0:15}
  PREFIX=24
  IP_SRV="198.18.$SUBNET.2"
  IP_CLI="198.18.$SUBNET.1"
  ip netns add "$NS_SRV"
  on_exit "ip netns del $NS_SRV"
  ip netns add "$NS_CLI"
  on_exit "ip netns del $NS_CLI"
  ip link add "$VETH_SRV" netns "$NS_SRV" type veth peer name "$VETH_CLI" netns "$NS_CLI"
  ip -n "$NS_SRV" link set lo up
  ip -n "$NS_CLI" link set lo up
  ip -n "$NS_SRV" link set "$VETH_SRV" up
  ip -n "$NS_CLI" link set "$VETH_CLI" up
  ip -n "$NS_CLI" addr add "$IP_CLI/$PREFIX" dev "$VETH_CLI"
  # A kernel sender on veth leaves UDP checksums partial; make them real.
  ip netns exec "$NS_CLI" ethtool -K "$VETH_CLI" tx off >/dev/null
  MAC_SRV=$(ip -n "$NS_SRV" -o link show "$VETH_SRV" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
  MAC_CLI=$(ip -n "$NS_CLI" -o link show "$VETH_CLI" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
}

in_srv() { ip netns exec "$NS_SRV" "$@"; }
in_cli() { ip netns exec "$NS_CLI" "$@"; }

# Starts "$@" in the server namespace in the background, output to
# $LOGDIR/<name>.out/.err, and waits (bounded) for a line matching the
# ready regex (an empty one: just that it is still running after 0.5 s).
start_server() {  # name ready_regex cmd...
  local name=$1 ready=$2
  shift 2
  LOGDIR=${LOGDIR:-$(mktemp -d)}
  on_exit "rm -rf $LOGDIR"
  ip netns exec "$NS_SRV" "$@" >"$LOGDIR/$name.out" 2>"$LOGDIR/$name.err" &
  local pid=$!
  on_exit "kill -9 $pid"
  if [ -z "$ready" ]; then  # a program that prints nothing until it ends
    sleep 0.5
    kill -0 $pid 2>/dev/null || { cat "$LOGDIR/$name.err" >&2; fail "$name exited at once"; }
    SERVER_PID=$pid
    return 0
  fi
  for _ in $(seq 100); do
    grep -qE "$ready" "$LOGDIR/$name.out" 2>/dev/null && { SERVER_PID=$pid; return 0; }
    kill -0 $pid 2>/dev/null || { cat "$LOGDIR/$name.err" >&2; fail "$name exited before it was ready"; }
    sleep 0.1
  done
  cat "$LOGDIR/$name.err" >&2
  fail "$name not ready within 10 s"
}

# Kills the server outright (no output check), quietly.
kill_server() {
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

# Stops the server with SIGTERM (bounded); its stdout is then in
# $LOGDIR/<name>.out. Not in a subshell: wait needs our own child.
stop_server() {  # name
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$SERVER_PID" 2>/dev/null && fail "$1 did not exit within 5 s of SIGTERM"
  local rc=0
  wait "$SERVER_PID" || rc=$?
  [ $rc -eq 0 ] || fail "$1 exited with status $rc: $(cat "$LOGDIR/$1.err")"
}

pass() { echo "PASS: $*"; }
