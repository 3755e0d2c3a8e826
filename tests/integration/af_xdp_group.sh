#!/usr/bin/env bash
# Several unmodified programs under the shim on one interface with AF_XDP
# in shared mode: two Python echo servers on different ports, both on the
# bypass path (dpdkudp-stat says af_xdp for each; the second joined the
# first's group), both echoing at once. The first (the group's founder) is
# killed with SIGKILL: the second keeps serving, the dead one's port goes
# back to the kernel (port unreachable), and a new program takes that port
# over through the same group. Two more serve one port together with
# SO_REUSEPORT (flows spread over both, each flow sticking to one, all to
# the survivor once one is killed). When the last one exits, no XDP program
# is left on the interface.
#   af_xdp_group.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
STAT="$BUILD/tools/dpdkudp-stat"
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=$(command -v python3)
ECHO="$HERE/shim/py_echo_server.py"
CLIENT="$HERE/udp_echo_client.py"

netns_pair
ip -n "$NS_SRV" addr add "$IP_SRV/$PREFIX" dev "$VETH_SRV"
in_srv ethtool -K "$VETH_SRV" tx off >/dev/null
LOGDIR=$(mktemp -d)
on_exit "rm -rf $LOGDIR"
cat >"$LOGDIR/dpdkudp.env" <<CONF
DPDKUDP_BACKEND=af_xdp
DPDKUDP_IFACE=$VETH_SRV
DPDKUDP_MODE=shared
DPDKUDP_REQUIRE=1
DPDKUDP_LOG=info
CONF
SHIM=(env LD_PRELOAD="$BUILD/preload/libdpdkudp.so" DPDKUDP_CONFIG="$LOGDIR/dpdkudp.env")
P1=9101
P2=9102

xdp_attached() { ip -n "$NS_SRV" link show dev "$VETH_SRV" | grep -q "prog/xdp"; }

# stat_check PID PORT WANT_MEMBER: the process runs on af_xdp, with its
# socket on PORT and datagrams delivered; WANT_MEMBER=1: its device line
# says it joined a group. The region is published every 50 ms: a read
# right after traffic is retried for up to 2 s.
stat_check() {
  local json i
  for i in $(seq 20); do
    json=$("$STAT" "$1" --json) || fail "dpdkudp-stat $1 --json failed"
    "$PYTHON" - "$json" "$2" "$3" 2>/dev/null <<'EOF' && return 0
import json, sys
d = json.loads(sys.argv[1])
port, member = sys.argv[2], sys.argv[3] == "1"
assert d["alive"] and d["backend"] == "af_xdp" and d["mode"] == "shared", d
assert ("group member" in d["device"]) == member, d["device"]
assert any(s["local"].endswith(":" + port) for s in d["sockets"]), d["sockets"]
assert d["totals"]["udp_delivered"] >= 1, d["totals"]
EOF
    sleep 0.1
  done
  fail "dpdkudp-stat $1: $json"
}

# echo_both COUNT WHAT: COUNT datagrams through each port at once.
echo_both() {
  in_cli "$PYTHON" "$CLIENT" "$IP_SRV" $P1 --count "$1" --max-size 1472 &
  local c1=$!
  in_cli "$PYTHON" "$CLIENT" "$IP_SRV" $P2 --count "$1" --max-size 1472 &
  local c2=$!
  wait $c1 || fail "echo on port $P1 ($2)"
  wait $c2 || fail "echo on port $P2 ($2)"
}

start_server first '^ready' "${SHIM[@]}" "$PYTHON" "$ECHO" $P1
FIRST=$SERVER_PID
start_server second '^ready' "${SHIM[@]}" "$PYTHON" "$ECHO" $P2
SECOND=$SERVER_PID
on_exit "kill -9 $FIRST $SECOND 2>/dev/null"
grep -q "af_xdp" "$LOGDIR/second.err" || fail "second: no af_xdp banner: $(cat "$LOGDIR/second.err")"
xdp_attached || fail "no XDP program on $VETH_SRV"

# Both at once, every byte checked.
echo_both 1500 "two programs"
stat_check "$FIRST" $P1 0
stat_check "$SECOND" $P2 1
pass "two programs on $VETH_SRV, both on AF_XDP (the second a group member), 1500 datagrams each at once"

# The founder is killed outright.
kill -9 "$FIRST"
wait "$FIRST" 2>/dev/null || true
xdp_attached || fail "the XDP program left with the founder while a member still runs"
in_cli "$PYTHON" "$CLIENT" "$IP_SRV" $P2 --count 1000 --max-size 1472 || fail "echo on $P2 after the founder's SIGKILL"
stat_check "$SECOND" $P2 1
# Nobody serves P1 now: the kernel gets it and answers port unreachable
# (a connected socket sees ECONNREFUSED), nothing black-holes it.
in_cli "$PYTHON" - "$IP_SRV" $P1 <<'EOF' || fail "port $P1 after the kill: not refused by the kernel"
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.3)
s.connect((sys.argv[1], int(sys.argv[2])))
for _ in range(20):
    try:
        s.send(b"anyone?")
        s.recv(64)
    except ConnectionRefusedError:
        sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)
EOF
pass "founder SIGKILLed: the member keeps serving $P2, port $P1 is the kernel's again (port unreachable)"

# A new program takes the dead one's port, joining the group through the member.
start_server third '^ready' "${SHIM[@]}" "$PYTHON" "$ECHO" $P1
THIRD=$SERVER_PID
on_exit "kill -9 $THIRD 2>/dev/null"
echo_both 1000 "the new program on $P1 beside the member"
stat_check "$THIRD" $P1 1
pass "a new program took port $P1 over in the same group; both echo"

# SO_REUSEPORT across processes: two tagged echo servers on one port.
P3=9103
start_server ra '^ready' "${SHIM[@]}" "$PYTHON" "$ECHO" $P3 --reuseport --tag A:
RA=$SERVER_PID
start_server rb '^ready' "${SHIM[@]}" "$PYTHON" "$ECHO" $P3 --reuseport --tag B:
RB=$SERVER_PID
on_exit "kill -9 $RA $RB 2>/dev/null"
# reuse_probe ROUNDS: from 32 source ports, ROUNDS datagrams each; prints
# the tags that answered; fails when a flow changed server or a reply was
# not the datagram echoed.
reuse_probe() {
  in_cli "$PYTHON" - "$IP_SRV" $P3 "$1" <<'EOF'
import socket, sys
host, port, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks = []
for i in range(32):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 43000 + i))
    s.settimeout(2)
    socks.append(s)
first = {}
tags = set()
for r in range(rounds):
    for i, s in enumerate(socks):
        msg = b"flow %d round %d" % (i, r)
        s.sendto(msg, (host, port))
        data = s.recv(2048)
        tag, _, body = data.partition(b":")
        if body != msg:
            sys.exit("flow %d: reply %r" % (i, data))
        if first.setdefault(i, tag) != tag:
            sys.exit("flow %d moved from %r to %r" % (i, first[i], tag))
        tags.add(tag.decode())
print(" ".join(sorted(tags)))
EOF
}
tags=$(reuse_probe 3) || fail "SO_REUSEPORT pair: $tags"
[ "$tags" = "A B" ] || fail "SO_REUSEPORT pair: flows reached only '$tags'"
stat_check "$RA" $P3 1
stat_check "$RB" $P3 1
pass "two programs share port $P3 with SO_REUSEPORT: 32 flows spread over both, each flow stays with one"
kill -9 "$RA"
wait "$RA" 2>/dev/null || true
sleep 0.5  # the hub drops the dead process from the port's owners
tags=$(reuse_probe 2) || fail "SO_REUSEPORT after a kill: $tags"
[ "$tags" = "B" ] || fail "SO_REUSEPORT after the kill: answered by '$tags'"
pass "one of them SIGKILLed: every flow goes to the survivor"
kill -TERM "$RB"
wait "$RB" 2>/dev/null || true

for pid in $THIRD $SECOND; do
  kill -TERM "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "pid $pid did not exit on SIGTERM"
  wait "$pid" 2>/dev/null || true
done
grep -q "^echoed 3500$" "$LOGDIR/second.out" || fail "second echoed: $(cat "$LOGDIR/second.out")"
grep -q "^echoed 1000$" "$LOGDIR/third.out" || fail "third echoed: $(cat "$LOGDIR/third.out")"
xdp_attached && fail "an XDP program is left on $VETH_SRV after every program exited"
pass "all exited: counts right, no XDP program left"
