#!/usr/bin/env bash
# Pre-forking servers: the parent binds, forks workers that answer on the
# inherited socket, and only waits. Under the shim each worker adopts the
# socket on an engine of its own at its first use, and the processes
# holding it share its port: on AF_PACKET through engine/shared_ports.h
# (the parent, which never reads, gets no share), on AF_XDP through the
# XDP program's port owners (the parent's share is handed on through the
# shared kernel fd, step 3's path). Kernel mode runs the same against
# Linux.
#  1. prefork_server.py, three workers: 64 flows x 3 rounds from a kernel
#     client, every datagram answered exactly once, at least two workers
#     serving;
#  2. one worker SIGKILLed: 0.1 s later the others answer every
#     flow, nothing lost or twice; SIGTERM stops the rest cleanly;
#  3. datagrams sent before any worker first reads (the workers sleep
#     0.5 s after the fork) are answered, each once: under the shim the
#     parent's stack takes them and hands them on through the shared
#     kernel fd (ShimSocket::hand_off), where the first reader finds them;
#  4. NSD (Debian's authoritative DNS server, which binds in its main
#     process and forks server-count children) with two servers: 100 dig
#     queries answered.
#   prefork.sh BUILD_DIR kernel|shim   (SHIM_BACKEND=af_packet|af_packet_mmap|af_xdp)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
shim_setup "$1" "$2"
CLIENT="$HERE/reuse_client.py"
P=9301

check() {  # json min_tags max_tags exclude what
  "$PYTHON" - "$1" "$2" "$3" "$4" <<'PY' || fail "$5: $1"
import json, sys
d = json.loads(sys.argv[1])
lo, hi, exclude = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
# Linux wakes whichever worker waits first: a flow may move between
# workers there (under the shim it stays with one), so "moved" is not checked.
assert d["missing"] == 0 and d["duplicates"] == 0 and d["garbled"] == 0
assert lo <= len(d["tags"]) <= hi, d["tags"]
assert exclude not in d["tags"], d["tags"]
PY
}

# One line per shim process (dpdkudp-stat --json): pid, comm (spaces as
# _), interface, then the named totals.
stat_rows() {  # total...
  "$BUILD/tools/dpdkudp-stat" --json | "$PYTHON" -c '
import json, sys
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    d = json.loads(line)
    for p in d if isinstance(d, list) else [d]:
        print(p.get("pid"), p.get("comm", "").replace(" ", "_"), p.get("iface"), *(p["totals"][f] for f in sys.argv[1:]))' "$@"
}

start_under pf '^ready' "$PYTHON" "$HERE/prefork_server.py" $P --workers 3
json=$(in_cli "$PYTHON" "$CLIENT" "$IP_SRV" $P 64 3) || fail "reuse_client: $json"
check "$json" 2 3 none "three forked workers"
pass "pre-forked server, three workers on one inherited socket: 192 datagrams of 64 flows, each answered once ($json)"

victim=$(awk '$1 == "worker" && $2 == "1" && NF == 3 {print $3}' "$LOGDIR/pf.log")
[ -n "$victim" ] || fail "no pid for worker 1 in: $(cat "$LOGDIR/pf.log")"
kill -9 "$victim"
sleep 0.1
json=$(in_cli "$PYTHON" "$CLIENT" "$IP_SRV" $P 64 2) || fail "reuse_client: $json"
check "$json" 1 2 W1 "after SIGKILL of worker 1"
pass "worker 1 SIGKILLed: 0.1 s later the other two answer every flow, none lost or twice ($json)"
stop_bg pf
for w in 0 2; do
  grep -qE "^worker $w exit 0$" "$LOGDIR/pf.log" || fail "worker $w did not stop cleanly: $(cat "$LOGDIR/pf.log")"
done
grep -qE "^worker 1 signal 9$" "$LOGDIR/pf.log" || fail "worker 1: $(cat "$LOGDIR/pf.log")"
pass "SIGTERM: the parent stops its workers, each exits 0 having echoed datagrams"

# The window between the fork and the workers' first read.
start_under late '^ready' "$PYTHON" "$HERE/prefork_server.py" $((P + 1)) --workers 2 --start-delay 0.5
json=$(in_cli "$PYTHON" "$CLIENT" "$IP_SRV" $((P + 1)) 64 1) || fail "reuse_client: $json"
check "$json" 1 2 none "datagrams sent before the workers read"
if [ "$MODE" = shim ]; then
  parent=${BG_PID[late]}
  handed=$(stat_rows handoff_sent | awk -v pid="$parent" '$1 == pid {print $4}')
  [ "${handed:-0}" -ge 1 ] || fail "the parent (pid $parent) handed nothing on: '$handed'"
fi
pass "64 datagrams sent before either worker first read: each answered once${handed:+ ($handed handed on by the parent)} ($json)"
stop_bg late

# NSD, unmodified: an authoritative server for one test zone.
NSD=$(command -v nsd || true)
[ -n "$NSD" ] || fail "nsd is not installed (scripts/bootstrap installs it)"
ZONE=$LOGDIR/test.zone
cat >"$ZONE" <<'EOF'
$ORIGIN prefork.test.
$TTL 300
@   IN SOA ns.prefork.test. admin.prefork.test. 1 3600 600 86400 300
@   IN NS  ns
ns  IN A   198.18.0.53
www IN A   198.18.0.80
EOF
cat >"$LOGDIR/nsd.conf" <<EOF
server:
  ip-address: 0.0.0.0
  port: 5353
  server-count: 2
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "$LOGDIR"
  zonelistfile: "$LOGDIR/zone.list"
  database: ""
  xfrdfile: "$LOGDIR/xfrd.state"
  pidfile: "$LOGDIR/nsd.pid"
  verbosity: 1
remote-control:
  control-enable: no
zone:
  name: prefork.test
  zonefile: "$ZONE"
EOF
chmod 0755 "$LOGDIR"
on_exit "pkill -9 -f $LOGDIR/nsd.conf"
start_under nsd "nsd started" "$NSD" -d -c "$LOGDIR/nsd.conf" -V 3
answers=0
for i in $(seq 100); do
  out=$(in_cli dig +short +time=1 +tries=2 -p 5353 @"$IP_SRV" www.prefork.test A) || true
  [ "$out" = "198.18.0.80" ] && answers=$((answers + 1))
done
[ $answers -eq 100 ] || fail "nsd answered $answers of 100 queries: $(cat "$LOGDIR/nsd.log")"
if [ "$MODE" = shim ]; then
  # Which nsd processes took the queries on the bypass path: the forked
  # servers, each on an engine of its own.
  servers=$(stat_rows udp_delivered | awk -v i="$VETH_SRV" '$2 ~ /^nsd/ && $3 == i && $4 > 0 {n++} END {print n + 0}')
  [ "$servers" -ge 2 ] || { "$BUILD/tools/dpdkudp-stat" --json | head -c 1500 >&2; fail "nsd: $servers processes took queries on the bypass path, want both servers"; }
fi
pass "nsd $("$NSD" -v 2>&1 | awk 'NR == 1 {print $3}') with two forked servers: 100 of 100 queries answered${servers:+, by $servers server processes}"
stop_bg nsd
