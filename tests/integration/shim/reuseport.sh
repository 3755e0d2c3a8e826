#!/usr/bin/env bash
# Several programs on one interface. AF_PACKET (and DPDK's net_af_packet)
# hands every process a copy of every frame, so the processes settle among
# themselves which datagram is whose (engine/shared_ports.h); AF_XDP's
# program steers. Checked against a kernel client, the same steps in kernel
# mode against Linux itself:
#  1. two echo servers share a port with SO_REUSEPORT: 64 flows x 3 rounds,
#     every datagram answered exactly once, each flow by one server, both
#     serve some;
#  2. one is SIGKILLed: 0.1 s later (AF_XDP: 0.5 s) every flow is answered by the
#     survivor, nothing twice, nothing lost;
#  2b. two servers share a port with SO_REUSEADDR alone: every datagram
#     answered once, all by the one bound last (Linux's choice); it is
#     SIGKILLed: the first answers every flow;
#  3. two servers on two ports (no SO_REUSEPORT): a connected client of
#     each gets all its answers and never ECONNREFUSED (no port unreachable
#     from the other process), ping gets no duplicate replies (one process
#     answers for the host);
#  4. shim mode: each server counted the other's datagrams as
#     udp_other_process (not AF_XDP, whose program never hands them over),
#     and the port-sharing table is gone once every program exited.
# Over AF_XDP in shared mode (a dedicated address has one process there).
#   reuseport.sh BUILD_DIR kernel|shim   (SHIM_BACKEND=af_packet|af_packet_mmap|af_xdp|dpdk)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
shim_setup "$1" "$2"
ECHO="$HERE/py_echo_server.py"
CLIENT="$HERE/reuse_client.py"
BACKEND=${SHIM_BACKEND:-af_packet}
P=9201
P1=9202
P2=9203
P3=9204
# AF_XDP serves a dedicated address from one process (its program sends
# the address's every frame to it): several processes share an interface
# in shared mode, the kernel keeping the address (docs/af_xdp.md).
if [ "$MODE" = shim ] && [ "$BACKEND" = af_xdp ]; then
  ip -n "$NS_SRV" addr add "$IP_SRV/$PREFIX" dev "$VETH_SRV"
  in_srv ethtool -K "$VETH_SRV" tx off >/dev/null
  sed -i 's/^DPDKUDP_MODE=dedicated$/DPDKUDP_MODE=shared/' "$SHIM_CONF"
fi

# check JSON WANT_TAGS WHAT: reuse_client.py's result, all answered once.
check() {
  "$PYTHON" - "$1" "$2" <<'PY' || fail "$3: $1"
import json, sys
d = json.loads(sys.argv[1])
want = sys.argv[2].split()
assert d["missing"] == 0 and d["duplicates"] == 0 and d["moved"] == 0 and d["garbled"] == 0
assert sorted(d["tags"]) == sorted(want), d["tags"]
PY
}

start_under ra '^ready' "$PYTHON" "$ECHO" $P --reuseport --tag A:
start_under rb '^ready' "$PYTHON" "$ECHO" $P --reuseport --tag B:
json=$(in_cli "$PYTHON" "$CLIENT" "$IP_SRV" $P 64 3) || fail "reuse_client: $json"
check "$json" "A B" "two SO_REUSEPORT servers"
pass "two servers share port $P with SO_REUSEPORT: 192 datagrams of 64 flows, each answered once, each flow by one server ($json)"

kill -9 "${BG_PID[ra]}"
wait "${BG_PID[ra]}" 2>/dev/null || true
# AF_XDP's group hub drops a dead member from a port's owners at its next
# look (every 100 ms); elsewhere the table knows at once.
settle=0.1
[ "$MODE" = shim ] && [ "$BACKEND" = af_xdp ] && settle=0.5
sleep $settle
json=$(in_cli "$PYTHON" "$CLIENT" "$IP_SRV" $P 64 2) || fail "reuse_client: $json"
check "$json" "B" "after SIGKILL of one"
pass "one SIGKILLed: $settle s later every flow goes to the survivor, none lost or answered twice ($json)"
stop_bg rb

start_under ua '^ready' "$PYTHON" "$ECHO" $P3 --reuseaddr --tag A:
start_under ub '^ready' "$PYTHON" "$ECHO" $P3 --reuseaddr --tag B:
json=$(in_cli "$PYTHON" "$CLIENT" "$IP_SRV" $P3 32 2) || fail "reuse_client: $json"
check "$json" "B" "two SO_REUSEADDR servers"
kill -9 "${BG_PID[ub]}"
wait "${BG_PID[ub]}" 2>/dev/null || true
sleep $settle
json2=$(in_cli "$PYTHON" "$CLIENT" "$IP_SRV" $P3 32 2) || fail "reuse_client: $json2"
check "$json2" "A" "after SIGKILL of the last bound"
pass "two servers share port $P3 with SO_REUSEADDR alone: each datagram answered once, by the one bound last ($json); once it is killed, by the first ($json2)"
stop_bg ua

start_under s1 '^ready' "$PYTHON" "$ECHO" $P1
start_under s2 '^ready' "$PYTHON" "$ECHO" $P2
connected_client() {  # port
  in_cli "$PYTHON" - "$IP_SRV" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.connect((sys.argv[1], int(sys.argv[2])))
for i in range(200):
    msg = b"connected %d" % i
    s.send(msg)
    try:
        data = s.recv(2048)
    except ConnectionRefusedError:
        sys.exit("datagram %d: ECONNREFUSED (a port unreachable came back)" % i)
    if data != msg:
        sys.exit("datagram %d: %r" % (i, data))
PY
}
connected_client $P1 &
c1=$!
connected_client $P2 &
c2=$!
wait $c1 || fail "connected client of port $P1"
wait $c2 || fail "connected client of port $P2"
pass "two servers on ports $P1 and $P2 at once: 200 answers each to connected clients, no ECONNREFUSED"

ping_out=$(in_cli ping -c 20 -i 0.05 -W 1 "$IP_SRV" 2>&1) || fail "ping: $ping_out"
grep -q " 0% packet loss" <<<"$ping_out" || fail "ping lost replies: $ping_out"
grep -q "duplicates" <<<"$ping_out" && fail "ping got duplicate replies: $ping_out"
pass "ping: 20 replies, no duplicates"

if [ "$MODE" = shim ] && [ "$BACKEND" != af_xdp ]; then
  for name in s1 s2; do
    ok=0
    for _ in $(seq 20); do
      json=$("$BUILD/tools/dpdkudp-stat" --json "${BG_PID[$name]}") || fail "dpdkudp-stat --json ${BG_PID[$name]}"
      if "$PYTHON" - "$json" <<'PY'; then
import json, sys
d = json.loads(sys.argv[1]); d = d[0] if isinstance(d, list) else d
sys.exit(0 if d["drops"]["by_reason"].get("udp_other_process", 0) >= 200 else 1)
PY
        ok=1
        break
      fi
      sleep 0.1
    done
    [ $ok = 1 ] || fail "$name: the other server's 200 datagrams not counted as udp_other_process: $json"
  done
  pass "each server counted the other's datagrams under udp_other_process"
fi
stop_bg s1
stop_bg s2

if [ "$MODE" = shim ]; then
  netns_ino=$(stat -L -c %i "/run/netns/$NS_SRV")
  left=$(ls /dev/shm/ | grep -E "^dpdkudp-ports-[0-9]+-$netns_ino-" || true)
  [ -z "$left" ] || fail "port-sharing table left behind: $left"
  pass "no port-sharing table left once every program exited"
fi
