#!/usr/bin/env bash
# dpdkudp-stat against a real program under the shim: the live counters of
# an echo server (text, JSON, --watch with rates), the [PERF] line on stderr,
# a SIGKILLed process's region shown as gone and removed by --clean, and
# DPDKUDP_STATS=0 publishing nothing.
#   stat_tool.sh BUILD_DIR
set -euo pipefail
BUILD=$1
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
B="$BUILD/tools/dpdkudp-bench"
STAT="$BUILD/tools/dpdkudp-stat"
SHIM=(env LD_PRELOAD="$BUILD/preload/libdpdkudp.so" DPDKUDP_CONFIG= DPDKUDP_BACKEND=af_packet DPDKUDP_REQUIRE=1)

netns_pair
start_server echo '' "${SHIM[@]}" DPDKUDP_IFACE="$VETH_SRV" DPDKUDP_IP="$IP_SRV/$PREFIX" DPDKUDP_PERF_INTERVAL=1 \
  "$B" echo -p 9000 -d 30 --idle-stop 20
PID=$SERVER_PID
sleep 0.5
out=$(in_cli "$B" pingpong -t "$IP_SRV:9000" -n 500 -s 64)
echo "$out" | grep -q "count=500 lost=0" || fail "pingpong: $out"
sleep 0.3  # one publish tick (50 ms) and then some

json=$("$STAT" "$PID" --json) || fail "dpdkudp-stat $PID --json failed"
echo "$json"
/usr/bin/python3 - "$json" "$PID" <<'EOF' || fail "dpdkudp-stat --json: wrong or missing counters"
import json, sys
d = json.loads(sys.argv[1])
pid = int(sys.argv[2])
assert d["pid"] == pid and d["alive"] is True and d["updating"] is True, d
assert d["backend"] == "af_packet" and d["mode"] == "dedicated", d
t = d["totals"]
assert t["udp_delivered"] >= 500 and t["udp_sent"] >= 500, t
assert t["rx_frames"] >= 500 and t["arp_received"] >= 1, t
socks = [s for s in d["sockets"] if s["local"].endswith(":9000")]
assert len(socks) == 1, d["sockets"]
s = socks[0]
assert s["rx_datagrams"] >= 500 and s["tx_datagrams"] >= 500 and s["rx_drops"] == 0, s
assert d["drops"]["socket_buffer_full"] == 0 and d["drops"]["checksum"] == 0, d["drops"]
EOF
pass "dpdkudp-stat --json: the echo's 500 datagrams each way, its socket on :9000, no drops"

text=$("$STAT")
echo "$text"
echo "$text" | grep -q "^pid $PID (dpdkudp-bench)  backend=af_packet mode=dedicated iface=$VETH_SRV ip=$IP_SRV/$PREFIX" ||
  fail "dpdkudp-stat (all processes) does not list pid $PID"
echo "$text" | grep -qE "^    [0-9]+ +\*:9000 " || fail "dpdkudp-stat text: no socket row for *:9000"
echo "$text" | grep -q "socket       buffer full 0" || fail "dpdkudp-stat text: no drop hierarchy"
pass "dpdkudp-stat with no pid lists the shim process with its socket and drop hierarchy"

# --watch: a gen at a fixed rate shows up as a rate on the second refresh.
in_cli "$B" gen -t "$IP_SRV:9000" -r 5000 -s 64 -d 3 >/dev/null &
GEN=$!
on_exit "kill $GEN"
sleep 1
watch=$("$STAT" "$PID" --watch 0.5 --count 3)
wait $GEN || true
echo "$watch"
rates=$(echo "$watch" | sed -n 's/^  rates      rx \([0-9]*\) pps.*/\1/p' | tail -1)
[ -n "$rates" ] || fail "dpdkudp-stat --watch printed no rates line"
[ "$rates" -ge 3000 ] || fail "dpdkudp-stat --watch: rx rate $rates pps while a generator sends 5000/s"
pass "dpdkudp-stat --watch shows the live rate ($rates pps rx at 5000/s offered)"

grep -q '^\[PERF\] dpdkudp pid=[0-9]* interval=' "$LOGDIR/echo.err" || fail "no [PERF] line with DPDKUDP_PERF_INTERVAL=1: $(cat "$LOGDIR/echo.err")"
perf=$(grep '^\[PERF\]' "$LOGDIR/echo.err" | sort -t= -k4 | tail -1)
pass "DPDKUDP_PERF_INTERVAL=1 prints [PERF] lines: $perf"

# A stopped process (its poller not running) is flagged, and recovers.
kill -STOP "$PID"
sleep 1.5
stopped=$("$STAT" "$PID")
kill -CONT "$PID"
echo "$stopped" | grep -q "^pid $PID (dpdkudp-bench) \[not updating" || fail "a stopped process is not flagged: $stopped"
sleep 0.5
"$STAT" "$PID" --json | grep -q '"alive":true,"updating":true' || fail "not updating again after SIGCONT"
pass "a stopped process shows as not updating, and as updating again after SIGCONT"

# SIGKILL: the region outlives the process, is shown as gone, --clean removes it.
kill_server
[ -e "/dev/shm/dpdkudp.$PID" ] || fail "expected the killed process's region to remain until cleaned"
gone=$("$STAT" "$PID") || true
echo "$gone" | grep -q "^pid $PID (dpdkudp-bench) \[gone: last values\]" || fail "killed process not shown as gone: $gone"
"$STAT" --clean | grep -q "removed the region of pid $PID" || fail "--clean did not remove pid $PID's region"
[ ! -e "/dev/shm/dpdkudp.$PID" ] || fail "region still there after --clean"
if "$STAT" "$PID" 2>/dev/null; then fail "dpdkudp-stat on a cleaned pid should fail"; fi
pass "a SIGKILLed process shows as gone with its last values, and --clean removes its region"

# A clean exit removes the region itself; DPDKUDP_STATS=0 makes none.
start_server echo2 '' "${SHIM[@]}" DPDKUDP_IFACE="$VETH_SRV" DPDKUDP_IP="$IP_SRV/$PREFIX" DPDKUDP_STATS=0 \
  "$B" echo -p 9000 -d 30 --idle-stop 20
in_cli "$B" pingpong -t "$IP_SRV:9000" -n 10 -s 64 >/dev/null
[ ! -e "/dev/shm/dpdkudp.$SERVER_PID" ] || fail "DPDKUDP_STATS=0 still made a region"
kill_server
start_server echo3 '' "${SHIM[@]}" DPDKUDP_IFACE="$VETH_SRV" DPDKUDP_IP="$IP_SRV/$PREFIX" \
  "$B" echo -p 9000 -d 30 --idle-stop 1
in_cli "$B" pingpong -t "$IP_SRV:9000" -n 10 -s 64 >/dev/null
[ -e "/dev/shm/dpdkudp.$SERVER_PID" ] || fail "no region while running"
for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done  # --idle-stop 1
kill -0 "$SERVER_PID" 2>/dev/null && fail "echo did not stop 1 s after its traffic"
wait "$SERVER_PID" || fail "echo exited with status $?"
[ ! -e "/dev/shm/dpdkudp.$SERVER_PID" ] || fail "region left behind after a clean exit"
pass "DPDKUDP_STATS=0 publishes nothing; a clean exit removes the region"
