#!/usr/bin/env bash
# dpdkudp-stat against a real program under the shim: the live counters of
# an echo server (text, JSON, --watch with rates), the [PERF] line on stderr,
# a SIGKILLed process's region shown as gone and removed by --clean, and
# DPDKUDP_STATS=0 publishing nothing. The Prometheus format as Prometheus's
# Python client parses it and as node_exporter's textfile collector serves
# it (--prometheus-file, rewritten by --watch); --watch redrawn in place on a
# terminal (under script(1)) and plain when piped.
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

# The fd the program holds for its socket on :9000: the shim's socket is a
# real kernel socket (its sidecar, bound to the same port), so the inode in
# the namespace's /proc/net/udp leads to it in /proc/PID/fd.
inode=$(awk '$2 ~ /:2328$/ { print $10; exit }' "/proc/$PID/net/udp")
[ -n "$inode" ] || fail "no kernel socket on port 9000 in /proc/$PID/net/udp"
FD=
for f in /proc/"$PID"/fd/*; do
  if [ "$(readlink "$f")" = "socket:[$inode]" ]; then
    FD=${f##*/}
    break
  fi
done
[ -n "$FD" ] || fail "no fd of pid $PID is socket:[$inode]"
TIDS=$(ls /proc/"$PID"/task | tr '\n' ' ')
prom=$("$STAT" "$PID" --prometheus) || fail "dpdkudp-stat $PID --prometheus failed"
echo "$prom" | grep -E '^dpdkudp_(udp_delivered_total|socket_rx_datagrams_total|socket_last_reader_tid)\{'
/usr/bin/python3 - "$prom" "$PID" "$FD" "$VETH_SRV" "$TIDS" <<'EOF' || fail "dpdkudp-stat --prometheus: wrong, missing or unparsable"
import sys
from prometheus_client.parser import text_string_to_metric_families
text, pid, fd, iface, tids = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5].split()
fams = list(text_string_to_metric_families(text))
names = [f.name for f in fams]
assert len(names) == len(set(names)), "a family twice: %s" % names
by = {f.name: f for f in fams}
def one(family, **labels):
    got = [s for s in by[family].samples
           if s.labels["pid"] == pid and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(got) == 1, (family, labels, got)
    return got[0]
d = one("dpdkudp_udp_delivered")
assert by["dpdkudp_udp_delivered"].type == "counter", by["dpdkudp_udp_delivered"].type
assert d.value == 500, "udp delivered %s, the client sent 500" % d.value
assert d.labels == {"pid": pid, "comm": "dpdkudp-bench", "backend": "af_packet", "iface": iface}, d.labels
sock = one("dpdkudp_socket_rx_datagrams", local_port="9000")
assert sock.value == 500, sock
assert sock.labels["fd"] == fd, "fd label %s, the program holds fd %s" % (sock.labels["fd"], fd)
assert sock.labels["family"] == "ipv4" and sock.labels["local_address"] == "0.0.0.0", sock.labels
tid = one("dpdkudp_socket_last_reader_tid", local_port="9000")
assert by["dpdkudp_socket_last_reader_tid"].type == "gauge"
assert str(int(tid.value)) in tids, "last reader %s is not a thread of %s (%s)" % (tid.value, pid, tids)
assert one("dpdkudp_drops", reason="socket_buffer_full").value == 0
assert one("dpdkudp_process_alive").value == 1 and one("dpdkudp_sockets_open").value >= 1
assert by["dpdkudp_socket_queued_bytes"].type == "gauge" and by["dpdkudp_start_time_seconds"].type == "gauge"
EOF
text=$("$STAT" "$PID")
echo "$text" | grep -qE "^    [0-9]+ +\*:9000 .* fd $FD tid [0-9]+$" || fail "dpdkudp-stat text: no 'fd $FD tid N' on the :9000 row"
json=$("$STAT" "$PID" --json)
echo "$json" | grep -qE "\"fd\":$FD,\"last_reader_tid\":[0-9]+\}" || fail "dpdkudp-stat --json: no fd $FD"
pass "dpdkudp-stat --prometheus parses (prometheus_client): udp delivered 500 as sent, the socket's fd label $FD is the program's fd, its last reader a thread of it"

# node_exporter's textfile collector serves what --prometheus-file writes,
# rewritten every refresh by --watch. Run as a plain program (never a
# service) on a free local port, killed at exit.
PROMDIR=$(mktemp -d)
on_exit "rm -rf $PROMDIR"
"$STAT" "$PID" --prometheus-file "$PROMDIR/dpdkudp.prom" || fail "--prometheus-file failed"
[ -s "$PROMDIR/dpdkudp.prom" ] || fail "--prometheus-file wrote nothing"
[ "$(stat -c %a "$PROMDIR/dpdkudp.prom")" = 644 ] || fail "--prometheus-file: not readable by the collector's user"
"$STAT" "$PID" --prometheus-file "$PROMDIR/dpdkudp.prom" --watch 0.2 --count 100 >"$PROMDIR/watch.out" 2>&1 &
WATCHER=$!
on_exit "kill $WATCHER"
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
prometheus-node-exporter --collector.textfile.directory="$PROMDIR" --web.listen-address="127.0.0.1:$PORT" \
  --collector.disable-defaults --collector.textfile >"$PROMDIR/node_exporter.log" 2>&1 &
EXPORTER=$!
on_exit "kill $EXPORTER"
/usr/bin/python3 - "http://127.0.0.1:$PORT/metrics" "$PID" <<'EOF' || fail "node_exporter did not serve the dpdkudp metrics: $(cat "$PROMDIR/node_exporter.log")"
import sys, time, urllib.request
from prometheus_client.parser import text_string_to_metric_families
url, pid = sys.argv[1], sys.argv[2]
def scrape():
    for _ in range(100):  # 10 s at most for node_exporter to listen
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return {f.name: f for f in text_string_to_metric_families(r.read().decode())}
        except OSError:
            time.sleep(0.1)
    sys.exit("no answer from " + url)
def value(fams, family):
    got = [s.value for s in fams[family].samples if s.labels.get("pid") == pid]
    assert len(got) == 1, (family, fams.get(family))
    return got[0]
first = scrape()
assert first["node_textfile_scrape_error"].samples[0].value == 0, "the collector could not read the file"
assert value(first, "dpdkudp_udp_delivered") == 500, value(first, "dpdkudp_udp_delivered")
assert value(first, "dpdkudp_socket_rx_datagrams") == 500
for _ in range(50):  # the watcher rewrites the file every 0.2 s
    time.sleep(0.2)
    later = scrape()
    if value(later, "dpdkudp_last_update_time_seconds") > value(first, "dpdkudp_last_update_time_seconds"):
        break
else:
    sys.exit("the file was not rewritten by --watch")
print("node_exporter serves %d dpdkudp families" % sum(1 for n in later if n.startswith("dpdkudp_")))
EOF
kill -TERM "$WATCHER"
wait "$WATCHER" || fail "--prometheus-file --watch exited with status $? on SIGTERM: $(cat "$PROMDIR/watch.out")"
[ "$(ls -A "$PROMDIR" | grep -v -e '^node_exporter.log$' -e '^watch.out$')" = dpdkudp.prom ] ||
  fail "--prometheus-file left other files: $(ls -A "$PROMDIR")"
pass "node_exporter's textfile collector serves the file --prometheus-file writes, rewritten by --watch"

# --watch on a terminal redraws in place (cursor home, clear screen), each
# socket with its rates; with TERM=dumb (and into a pipe, below) plain lines.
screen=$(TERM=xterm timeout 20 script -qec "$STAT $PID --watch 0.3 -n 2" /dev/null) || fail "--watch under script(1) failed"
printf '%s' "$screen" | cat -v | head -30
printf '%s' "$screen" | grep -q $'\e\[H\e\[2J' || fail "--watch on a terminal: no clear-screen sequence"
[ "$(printf '%s' "$screen" | grep -o $'\e\[2J' | wc -l)" -eq 2 ] || fail "--watch -n 2 on a terminal: not two screens"
printf '%s' "$screen" | grep -qE "^ +$FD +[0-9]+ +\*:9000 +- +[0-9]+ +[0-9]+ " || fail "--watch on a terminal: no socket row with rates"
printf '%s' "$screen" | grep -q "^pid $PID (dpdkudp-bench)" || fail "--watch on a terminal: no process header"
dumb=$(TERM=dumb timeout 20 script -qec "$STAT $PID --watch 0.3 -n 2" /dev/null) || fail "--watch TERM=dumb failed"
if printf '%s' "$dumb" | grep -q $'\e'; then fail "--watch with TERM=dumb wrote escape sequences"; fi
printf '%s' "$dumb" | grep -qE "^    [0-9]+ +\*:9000 " || fail "--watch with TERM=dumb: not the plain text"
pass "dpdkudp-stat --watch redraws in place on a terminal (socket fd $FD with its rates), plain with TERM=dumb"

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
if printf '%s' "$watch" | grep -q $'\e'; then fail "dpdkudp-stat --watch into a pipe wrote escape sequences"; fi
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
